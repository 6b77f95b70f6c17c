//go:build azurekeyvault

package vault

// The azurekeyvault keeper, built only with -tags azurekeyvault so that the default binary
// carries no cloud SDK.
import _ "gocloud.dev/secrets/azurekeyvault"

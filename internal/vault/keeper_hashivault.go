//go:build hashivault

package vault

// The hashivault keeper, built only with -tags hashivault so that the default binary
// carries no cloud SDK.
import _ "gocloud.dev/secrets/hashivault"

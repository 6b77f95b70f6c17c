//go:build awskms

package vault

// The awskms keeper, built only with -tags awskms so that the default binary
// carries no cloud SDK.
import _ "gocloud.dev/secrets/awskms"

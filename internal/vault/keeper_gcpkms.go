//go:build gcpkms

package vault

// The gcpkms keeper, built only with -tags gcpkms so that the default binary
// carries no cloud SDK.
import _ "gocloud.dev/secrets/gcpkms"

// Package passkeytest is a software authenticator for tests that cannot
// run a browser: it answers WebAuthn options with real ES256 signatures,
// "none" attestation and a signature counter, and can be made to answer
// the way an attacker would (a cloned key, another user handle).
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

var b64 = base64.RawURLEncoding

// Authenticator holds passkeys for one origin.
type Authenticator struct {
	Origin string
	keys   []*Credential
}

// Credential is one passkey the authenticator holds.
type Credential struct {
	ID         []byte
	RPID       string
	UserHandle []byte
	Key        *ecdsa.PrivateKey
	Count      uint32
}

// New returns an authenticator that answers as the page at origin.
func New(origin string) *Authenticator { return &Authenticator{Origin: origin} }

type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		RPID string `json:"rpId"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

// Create answers registration options (the JSON a server's begin step
// returns) with a new passkey, and returns the answer to post back.
func (a *Authenticator) Create(optionsJSON []byte) ([]byte, *Credential, error) {
	var o options
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, nil, err
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("user id: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	c := &Credential{ID: make([]byte, 16), RPID: o.PublicKey.RP.ID, UserHandle: handle, Key: key}
	rand.Read(c.ID)
	a.keys = append(a.keys, c)
	pub, err := key.PublicKey.ECDH()
	if err != nil {
		return nil, nil, err
	}
	raw := pub.Bytes() // 0x04 | x | y
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: raw[1:33], -3: raw[33:]})
	if err != nil {
		return nil, nil, err
	}
	auth := authData(c.RPID, 0x01|0x04|0x40, 0)
	auth = append(auth, make([]byte, 16)...) // AAGUID
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(c.ID)))
	auth = append(auth, c.ID...)
	auth = append(auth, cose...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	if err != nil {
		return nil, nil, err
	}
	cdj := clientData("webauthn.create", o.PublicKey.Challenge, a.Origin)
	out, err := json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON": b64.EncodeToString(cdj), "attestationObject": b64.EncodeToString(att),
			"transports": []string{"internal"},
		},
		"clientExtensionResults": map[string]any{},
	})
	return out, c, err
}

// Get answers login options with c (nil: the first passkey the options
// allow, or the first held). The counter moves forward by one.
func (a *Authenticator) Get(optionsJSON []byte, c *Credential) ([]byte, error) {
	var o options
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, err
	}
	if c == nil {
		for _, k := range a.keys {
			if c != nil {
				break
			}
			if len(o.PublicKey.AllowCredentials) == 0 {
				c = k
			}
			for _, ac := range o.PublicKey.AllowCredentials {
				if ac.ID == b64.EncodeToString(k.ID) {
					c = k
				}
			}
		}
	}
	if c == nil {
		return nil, fmt.Errorf("passkeytest: no passkey for these options")
	}
	c.Count++
	return a.Sign(c, o.PublicKey.Challenge, c.Count, c.UserHandle)
}

// Sign makes an assertion of c for challenge with the counter count and
// the user handle given, as a cloned or tampered authenticator might.
func (a *Authenticator) Sign(c *Credential, challenge string, count uint32, userHandle []byte) ([]byte, error) {
	auth := authData(c.RPID, 0x01|0x04, count)
	cdj := clientData("webauthn.get", challenge, a.Origin)
	sum := sha256.Sum256(cdj)
	digest := sha256.Sum256(append(append([]byte{}, auth...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.Key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON": b64.EncodeToString(cdj), "authenticatorData": b64.EncodeToString(auth),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(userHandle),
		},
		"clientExtensionResults": map[string]any{},
	})
}

// Challenge returns the challenge of options.
func Challenge(optionsJSON []byte) string {
	var o options
	_ = json.Unmarshal(optionsJSON, &o)
	return o.PublicKey.Challenge
}

func authData(rpID string, flags byte, count uint32) []byte {
	h := sha256.Sum256([]byte(rpID))
	b := append(h[:], flags)
	return binary.BigEndian.AppendUint32(b, count)
}

func clientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

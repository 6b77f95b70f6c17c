package manage

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchkey/latchkey"
)

// passkeyTTL is how long a ceremony waits for the authenticator's answer.
const passkeyTTL = 5 * time.Minute

// maxPasskeys bounds one user's passkeys: every assertion loads them all.
const maxPasskeys = 20

// newRelyingParty makes the WebAuthn relying party of the server reached
// at publicURL: its host name is the relying party id, its origin the one
// origin allowed. Without a public URL passkeys are off.
func newRelyingParty(publicURL, name string) (*webauthn.WebAuthn, error) {
	if publicURL == "" {
		return nil, nil
	}
	u, err := url.Parse(publicURL)
	if err != nil || u.Hostname() == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errors.New("passkeys: the public URL must be an http(s) URL with a host")
	}
	if _, err := netip.ParseAddr(u.Hostname()); err == nil {
		return nil, errors.New("passkeys: browsers refuse an IP address as relying party")
	}
	if name == "" {
		name = "latchkey"
	}
	return webauthn.New(&webauthn.Config{
		RPID: u.Hostname(), RPDisplayName: name, RPOrigins: []string{u.Scheme + "://" + u.Host},
	})
}

// PasskeyOptions are the options for navigator.credentials.create or get,
// as JSON the browser's PublicKeyCredential.parse*OptionsFromJSON read.
type PasskeyOptions struct {
	PublicKey json.RawMessage `json:"publicKey"`
}

// passkeyUser is a user as the WebAuthn library sees them: the user
// handle is the user id, so an assertion's handle names its account.
type passkeyUser struct {
	u     *latchkey.User
	keys  []latchkey.Passkey
	creds []webauthn.Credential
}

func (p *passkeyUser) WebAuthnID() []byte                         { return []byte(p.u.ID) }
func (p *passkeyUser) WebAuthnName() string                       { return p.u.Email }
func (p *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }
func (p *passkeyUser) WebAuthnDisplayName() string {
	if p.u.Name != "" {
		return p.u.Name
	}
	return p.u.Email
}

func (s *Service) passkeyUser(ctx context.Context, u *latchkey.User) (*passkeyUser, error) {
	keys, err := s.store.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	pu := &passkeyUser{u: u, keys: keys}
	for _, k := range keys {
		ts := make([]protocol.AuthenticatorTransport, len(k.Transports))
		for i, t := range k.Transports {
			ts[i] = protocol.AuthenticatorTransport(t)
		}
		pu.creds = append(pu.creds, webauthn.Credential{
			ID: k.CredentialID, PublicKey: k.PublicKey, AttestationFormat: k.Attestation, Transport: ts,
			Flags:         webauthn.CredentialFlagsFromMsgpByte(k.Flags),
			Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount},
		})
	}
	return pu, nil
}

// PasskeysEnabled reports whether this server can use passkeys: it knows
// the host name people reach it at.
func (s *Service) PasskeysEnabled() bool { return s.signin.rp != nil }

func (s *Service) relyingParty() (*webauthn.WebAuthn, error) {
	if s.signin.rp == nil {
		return nil, latchkey.Errorf(latchkey.EUNPROCESSABLE, "%s", s.signin.rpOff)
	}
	return s.signin.rp, nil
}

// ceremonyHash binds a ceremony to what began it: a session token, or a
// login attempt's own token. Another session finds nothing.
func ceremonyHash(kind, binding string) [32]byte {
	return sha256.Sum256([]byte("latchkey-passkey:" + kind + ":" + binding))
}

// beginCeremony stores the session data of a ceremony and returns the
// options the browser needs.
func (s *Service) beginCeremony(ctx context.Context, kind, binding, userID string, options any, sd *webauthn.SessionData) (*PasskeyOptions, error) {
	data, err := json.Marshal(sd)
	if err != nil {
		return nil, err
	}
	c := &latchkey.PasskeyCeremony{Hash: ceremonyHash(kind, binding), Kind: kind, UserID: userID, Data: data, ExpiresAt: s.Now().Add(passkeyTTL)}
	if err := s.store.PutPasskeyCeremony(ctx, c); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(options)
	if err != nil {
		return nil, err
	}
	var wrapped PasskeyOptions
	if err := json.Unmarshal(raw, &wrapped); err != nil {
		return nil, err
	}
	return &wrapped, nil
}

var errCeremonyGone = latchkey.Errorf(latchkey.EUNAUTHORIZED, "this passkey request expired or was answered already: start again").
	WithDetail("reason", "passkey_ceremony_not_found")

// takeCeremony takes the ceremony of kind bound to binding, once, and
// checks it belongs to userID ("" for a passwordless login).
func (s *Service) takeCeremony(ctx context.Context, kind, binding, userID string) (*webauthn.SessionData, error) {
	if binding == "" {
		return nil, errCeremonyGone
	}
	c, err := s.store.TakePasskeyCeremony(ctx, ceremonyHash(kind, binding), s.Now())
	if latchkey.IsNotFound(err) {
		return nil, errCeremonyGone
	}
	if err != nil {
		return nil, err
	}
	if c.Kind != kind || c.UserID != userID {
		return nil, errCeremonyGone
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return nil, err
	}
	sd.Expires = time.Time{} // expiry is the store's, on the injected clock
	return &sd, nil
}

// passkeyName checks a passkey's name: what its owner recognises it by.
func passkeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "Passkey", nil
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > 100 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", latchkey.Errorf(latchkey.EINVALID, "a passkey's name is at most 100 characters, on one line").WithDetail("field", "name")
	}
	return name, nil
}

// Passkeys lists the caller's own passkeys.
func (s *Service) Passkeys(ctx context.Context, c Caller) ([]latchkey.Passkey, error) {
	u, err := requireUser(c)
	if err != nil {
		return nil, err
	}
	list, err := s.store.Passkeys(ctx, u.ID)
	if list == nil {
		list = []latchkey.Passkey{}
	}
	return list, err
}

// BeginPasskeyRegistration starts adding a passkey for the caller; the
// challenge is bound to the caller's session.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, c Caller, session string) (*PasskeyOptions, error) {
	u, err := requireUser(c)
	if err != nil {
		return nil, err
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	pu, err := s.passkeyUser(ctx, u)
	if err != nil {
		return nil, err
	}
	if len(pu.keys) >= maxPasskeys {
		return nil, latchkey.Errorf(latchkey.EUNPROCESSABLE, "you have %d passkeys, the most one account may have: remove one first", maxPasskeys)
	}
	opts, sd, err := rp.BeginRegistration(pu,
		webauthn.WithExclusions(webauthn.Credentials(pu.creds).CredentialDescriptors()),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, err
	}
	return s.beginCeremony(ctx, latchkey.CeremonyRegister, session, u.ID, opts, sd)
}

// FinishPasskeyRegistration verifies the authenticator's answer to the
// caller's registration and stores the passkey. A session that had to
// enrol a second factor is complete afterwards: its new token is returned
// ("" otherwise).
func (s *Service) FinishPasskeyRegistration(ctx context.Context, c Caller, session, name string, response []byte) (*latchkey.Passkey, string, error) {
	u, err := requireUser(c)
	if err != nil {
		return nil, "", err
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, "", err
	}
	if name, err = passkeyName(name); err != nil {
		return nil, "", err
	}
	sd, err := s.takeCeremony(ctx, latchkey.CeremonyRegister, session, u.ID)
	if err != nil {
		return nil, "", err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, "", errPasskeyAnswer("credential")
	}
	pu, err := s.passkeyUser(ctx, u)
	if err != nil {
		return nil, "", err
	}
	cred, err := rp.CreateCredential(pu, *sd, parsed)
	if err != nil {
		return nil, "", errPasskeyAnswer("credential")
	}
	ts := make([]string, len(cred.Transport))
	for i, t := range cred.Transport {
		ts[i] = string(t)
	}
	pk := &latchkey.Passkey{
		ID: s.ids.New("pk"), UserID: u.ID, CredentialID: cred.ID, PublicKey: cred.PublicKey, SignCount: cred.Authenticator.SignCount,
		Transports: ts, AAGUID: cred.Authenticator.AAGUID, Flags: cred.Flags.MsgpByte(), Attestation: cred.AttestationFormat,
		Name: name, CreatedAt: s.Now(),
	}
	evs, err := s.userEvents(ctx, u, latchkey.EventPasskeyAdded, c.IP, map[string]any{"factor": "passkey", "passkey": pk.ID, "name": name})
	if err != nil {
		return nil, "", err
	}
	if err := s.store.CreatePasskey(ctx, pk, evs); err != nil {
		return nil, "", err
	}
	tok := ""
	if c.SignIn != nil && c.SignIn.Pending == latchkey.PendingEnrolment && session != "" {
		if tok, err = s.finishSignIn(ctx, session, u, c.SignIn, nil); err != nil {
			return nil, "", err
		}
	}
	return pk, tok, nil
}

func errPasskeyAnswer(field string) error {
	return latchkey.Errorf(latchkey.EINVALID, "the passkey's answer could not be verified").WithDetail("field", field)
}

// RenamePasskey renames one of the caller's passkeys.
func (s *Service) RenamePasskey(ctx context.Context, c Caller, id, name string) (*latchkey.Passkey, error) {
	u, err := requireUser(c)
	if err != nil {
		return nil, err
	}
	if name, err = passkeyName(name); err != nil {
		return nil, err
	}
	if err := s.store.RenamePasskey(ctx, u.ID, id, name); err != nil {
		return nil, err
	}
	list, err := s.store.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == id {
			return &list[i], nil
		}
	}
	return nil, latchkey.Errorf(latchkey.ENOTFOUND, "passkey not found")
}

// RemovePasskey removes one of the caller's passkeys after checking their
// password or a current second factor code, as removing the authenticator
// app does; EFORBIDDEN when it is the last second factor of an account
// that must keep one.
func (s *Service) RemovePasskey(ctx context.Context, c Caller, id, pw, code string) error {
	u, err := requireUser(c)
	if err != nil {
		return err
	}
	keys, err := s.store.Passkeys(ctx, u.ID)
	if err != nil {
		return err
	}
	found := false
	for _, k := range keys {
		found = found || k.ID == id
	}
	if !found {
		return latchkey.Errorf(latchkey.ENOTFOUND, "passkey not found")
	}
	if err := s.keepsSecondFactor(ctx, u, len(keys)-1, "passkey"); err != nil {
		return err
	}
	switch {
	case pw != "":
		if err := s.checkOwnPassword(ctx, u, pw); err != nil {
			return err
		}
	case code != "":
		if err := s.checkSecondFactor(ctx, u, code, c.IP); err != nil {
			return err
		}
	default:
		return latchkey.Errorf(latchkey.EINVALID, "confirm with your password (or a code of your authenticator app)").WithDetail("field", "password")
	}
	evs, err := s.userEvents(ctx, u, latchkey.EventPasskeyRemoved, c.IP, map[string]any{"factor": "passkey", "passkey": id})
	if err != nil {
		return err
	}
	return s.store.DeletePasskey(ctx, u.ID, id, evs)
}

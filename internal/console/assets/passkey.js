// passkey.js — the passkey ceremonies of the console: adding a passkey in
// Profile → Security, signing in with one, and the passkey step after a
// password. Each asks the server for options (the challenge stays on the
// server, bound to this session or sign-in attempt), lets the browser's
// authenticator answer, and posts the answer back to the JSON API.
(function () {
  "use strict";
  if (window.latchkeyPasskeys) return; // pages swapped in by htmx run it again
  window.latchkeyPasskeys = true;

  function fromB64(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toB64(buf) {
    if (!buf) return undefined;
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function ids(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: fromB64(c.id) }); });
  }

  function creationOptions(pk) {
    return Object.assign({}, pk, {
      challenge: fromB64(pk.challenge),
      user: Object.assign({}, pk.user, { id: fromB64(pk.user.id) }),
      excludeCredentials: ids(pk.excludeCredentials)
    });
  }

  function requestOptions(pk) {
    var o = Object.assign({}, pk, { challenge: fromB64(pk.challenge) });
    if (pk.allowCredentials) o.allowCredentials = ids(pk.allowCredentials);
    return o;
  }

  function credentialJSON(cred) {
    var r = cred.response, out = {
      id: cred.id, rawId: toB64(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64(r.authenticatorData);
      out.response.signature = toB64(r.signature);
      out.response.userHandle = toB64(r.userHandle);
    }
    return out;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (resp) {
      return resp.text().then(function (text) {
        var data = text ? JSON.parse(text) : {};
        if (!resp.ok) throw new Error((data.error && data.error.message) || "The server refused (" + resp.status + ").");
        return data;
      });
    });
  }

  function say(el, msg) {
    var box = document.getElementById(el.getAttribute("data-passkey-error") || "passkey-error");
    // Styled as an alert only while it says something: pages and tests
    // read a p.alert as the page's error.
    if (box) { box.textContent = msg; box.hidden = !msg; box.className = msg ? "alert" : ""; }
  }

  var ceremonies = {
    register: function (el) {
      var name = document.getElementById("passkey-name");
      return post("/v1/me/mfa/passkeys/register/begin").then(function (o) {
        return navigator.credentials.create({ publicKey: creationOptions(o.publicKey) });
      }).then(function (cred) {
        return post("/v1/me/mfa/passkeys/register/finish", { name: name ? name.value : "", credential: credentialJSON(cred) });
      });
    },
    login: function () {
      return post("/v1/auth/passkey/begin").then(function (o) {
        return navigator.credentials.get({ publicKey: requestOptions(o.publicKey) });
      }).then(function (cred) {
        return post("/v1/auth/passkey/finish", { credential: credentialJSON(cred) });
      });
    },
    "second-factor": function () {
      return post("/v1/auth/second-factor/passkey/begin").then(function (o) {
        return navigator.credentials.get({ publicKey: requestOptions(o.publicKey) });
      }).then(function (cred) {
        return post("/v1/auth/second-factor/passkey/finish", { credential: credentialJSON(cred) });
      });
    }
  };

  function reveal() {
    if (!window.PublicKeyCredential) return;
    document.querySelectorAll("[data-passkey]").forEach(function (el) { el.hidden = false; });
  }
  reveal();
  document.addEventListener("htmx:afterSettle", reveal);

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-passkey]") : null;
    if (!el || !ceremonies[el.getAttribute("data-passkey")]) return;
    ev.preventDefault();
    if (el.disabled) return;
    el.disabled = true;
    say(el, "");
    ceremonies[el.getAttribute("data-passkey")](el).then(function () {
      window.location.assign(el.getAttribute("data-next") || window.location.href);
    }).catch(function (err) {
      el.disabled = false;
      say(el, err && err.name === "NotAllowedError" ? "The passkey request was cancelled or timed out." : (err && err.message) || "The passkey did not work.");
    });
  });
})();

// signin.js — sign-in steps that need script: moving on to a workspace's
// identity provider (a form post's redirect to another origin is dropped
// under the console's CSP, form-action 'self').
(function () {
  "use strict";
  var go = document.getElementById("sso-continue");
  if (go) window.location.replace(go.href);
})();

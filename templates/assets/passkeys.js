// Passkeys on our pages: sign-in, second step, registration.
// Buttons carry data-passkey="signin" | "second_step" | "staff_second_step" | "register".
(function () {
  "use strict";

  function b64urlToBuf(s) {
    var pad = s.length % 4 === 0 ? "" : "====".slice(s.length % 4);
    var bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + pad);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function showError(message) {
    var box = document.getElementById("passkey-error");
    if (box) {
      box.textContent = message;
      box.hidden = false;
    }
  }

  async function postJson(url, body) {
    var res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    });
    var data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      var err = new Error((data && (data.detail || data.title)) || "Đã có lỗi xảy ra. Vui lòng thử lại.");
      err.status = res.status;
      err.code = data && data.code;
      throw err;
    }
    return data;
  }

  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = b64urlToBuf(pk.challenge);
    if (pk.allowCredentials) {
      pk.allowCredentials = pk.allowCredentials.map(function (c) {
        return Object.assign({}, c, { id: b64urlToBuf(c.id) });
      });
    }
    return { publicKey: pk };
  }

  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = b64urlToBuf(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: b64urlToBuf(pk.user.id) });
    if (pk.excludeCredentials) {
      pk.excludeCredentials = pk.excludeCredentials.map(function (c) {
        return Object.assign({}, c, { id: b64urlToBuf(c.id) });
      });
    }
    return { publicKey: pk };
  }

  function assertionJson(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: bufToB64url(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: bufToB64url(r.clientDataJSON),
        authenticatorData: bufToB64url(r.authenticatorData),
        signature: bufToB64url(r.signature),
        userHandle: r.userHandle ? bufToB64url(r.userHandle) : null
      },
      extensions: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
  }

  function attestationJson(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: bufToB64url(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: bufToB64url(r.clientDataJSON),
        attestationObject: bufToB64url(r.attestationObject),
        transports: r.getTransports ? r.getTransports() : undefined
      },
      extensions: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
  }

  function cancelled(e) {
    return e && (e.name === "NotAllowedError" || e.name === "AbortError");
  }

  async function signIn(button) {
    var mode = button.getAttribute("data-passkey");
    // A civil servant's passkey after their password, at the back office.
    var staff = mode === "staff_second_step";
    var base = staff ? "/backoffice/login/passkey" : "/login/passkey";
    var start = await postJson(base + "/options", staff ? {} : { mode: mode });
    var cred = await navigator.credentials.get(requestOptions(start.options));
    var done = await postJson(base, {
      challenge_id: start.challenge_id,
      credential: assertionJson(cred),
      return_to: button.getAttribute("data-return-to") || "/"
    });
    window.location.assign(done.location);
  }

  async function register(button) {
    var input = document.getElementById("passkey-name");
    var name = (input && input.value.trim()) || "Passkey";
    var startUrl = button.getAttribute("data-start-url") || "/api/v1/me/passkeys/registrations";
    var finishUrl = button.getAttribute("data-finish-url") || "/api/v1/me/passkeys";
    var start = await postJson(startUrl, {});
    var cred = await navigator.credentials.create(creationOptions(start.options));
    await postJson(finishUrl, {
      registration_id: start.registration_id,
      name: name,
      credential: attestationJson(cred)
    });
    window.location.reload();
  }

  function wire(button) {
    if (!window.PublicKeyCredential) {
      button.disabled = true;
      showError("Trình duyệt này không hỗ trợ passkey.");
      return;
    }
    button.addEventListener("click", async function () {
      button.disabled = true;
      try {
        if (button.getAttribute("data-passkey") === "register") {
          await register(button);
        } else {
          await signIn(button);
        }
      } catch (e) {
        if (e && e.code === "step_up_required" && button.getAttribute("data-step-up")) {
          window.location.assign(button.getAttribute("data-step-up"));
          return;
        }
        showError(cancelled(e) ? "Thao tác với passkey đã bị hủy hoặc hết thời gian." : (e && e.message) || "Không thực hiện được. Vui lòng thử lại.");
        button.disabled = false;
      }
    });
  }

  document.querySelectorAll("[data-passkey]").forEach(wire);
})();

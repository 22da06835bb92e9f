// After-photos from the browser over the app's tus endpoint (tus-js-client, vendored): each file
// is hashed (the server files photos by SHA-256), sent in chunks, and after a dropped connection
// resumed from the offset the server reports, not from the start. The form submits the hashes.
(function () {
  "use strict";
  var form = document.getElementById("respond-form");
  var input = document.getElementById("photo-input");
  var list = document.getElementById("upload-list");
  if (!form || !input || !window.tus) { return; }
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var submit = form.querySelector("button[type=submit]");
  var pending = 0;

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function settle(delta) {
    pending += delta;
    submit.disabled = pending > 0;
  }

  function upload(file) {
    var row = document.createElement("li");
    row.textContent = file.name + " — " + list.dataset.wait;
    list.appendChild(row);
    settle(1);
    file.arrayBuffer().then(function (bytes) {
      // crypto.subtle exists only in a secure context (HTTPS or localhost); an intranet served
      // over plain HTTP gets the vendored js-sha256 instead.
      if (window.crypto && window.crypto.subtle) {
        return window.crypto.subtle.digest("SHA-256", bytes).then(hex);
      }
      return window.sha256(bytes);
    }).then(function (sha256) {
      var job = new tus.Upload(file, {
        endpoint: input.dataset.endpoint,
        chunkSize: parseInt(input.dataset.chunkSize, 10),
        retryDelays: [0, 500, 1000, 2000, 4000, 8000],
        metadata: { sha256: sha256, filename: file.name, filetype: file.type },
        headers: { "X-CSRFToken": csrf },
        removeFingerprintOnSuccess: true,
        onShouldRetry: function () {
          row.textContent = file.name + " — " + list.dataset.retry;
          return true;
        },
        onProgress: function (sent, total) {
          row.textContent = file.name + " — " + Math.floor(sent * 100 / total) + "%";
        },
        onError: function (error) {
          row.textContent = file.name + " — " + list.dataset.failed + "：" + error.message;
          row.className = "error";
          settle(-1);
        },
        onSuccess: function () {
          var hidden = document.createElement("input");
          hidden.type = "hidden";
          hidden.name = "photos";
          hidden.value = sha256;
          form.appendChild(hidden);
          row.textContent = file.name + " — " + list.dataset.done;
          row.className = "done";
          row.dataset.sha256 = sha256;
          settle(-1);
        }
      });
      job.findPreviousUploads().then(function (previous) {
        if (previous.length) { job.resumeFromPreviousUpload(previous[0]); }
        job.start();
      });
    }).catch(function (error) {
      row.textContent = file.name + " — " + list.dataset.failed + "：" + error;
      settle(-1);
    });
  }

  input.addEventListener("change", function () {
    Array.prototype.forEach.call(input.files, upload);
  });
}());

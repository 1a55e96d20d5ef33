// The portal works without this file; with it, a file can be dropped on the page, the upload
// shows its progress, and a page waiting for the pipeline updates itself.
(function () {
  "use strict";

  function setUpUpload() {
    var form = document.getElementById("upload-form");
    var zone = document.getElementById("drop-zone");
    var input = document.getElementById("file-input");
    var progress = document.getElementById("upload-progress");
    if (!form || !zone || !input) { return; }
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) { input.files = event.dataTransfer.files; }
    });
    form.addEventListener("submit", function (event) {
      if (!window.XMLHttpRequest || !window.FormData || !input.files.length) { return; }
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      if (progress) { progress.hidden = false; }
      request.upload.addEventListener("progress", function (e) {
        if (progress && e.lengthComputable) { progress.value = Math.round(100 * e.loaded / e.total); }
      });
      request.addEventListener("load", function () {
        if (request.status < 400 && request.responseURL) {
          window.location.assign(request.responseURL);
        } else {
          document.open(); document.write(request.responseText); document.close();
        }
      });
      request.addEventListener("error", function () { form.submit(); });
      document.getElementById("upload-button").disabled = true;
      request.send(new FormData(form));
    });
  }

  function setUpPolling() {
    var follow = document.getElementById("follow");
    if (!follow || !follow.dataset.poll) { return; }
    var interval = 1000 * (parseInt(follow.dataset.interval, 10) || 5);
    var timer = window.setInterval(function () {
      fetch(follow.dataset.poll, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (status) {
          if (status && status.stage !== follow.dataset.stage) {
            window.clearInterval(timer);
            window.location.reload();
          }
        })
        .catch(function () { /* the next tick tries again */ });
    }, interval);
  }

  document.addEventListener("DOMContentLoaded", function () { setUpUpload(); setUpPolling(); });
})();

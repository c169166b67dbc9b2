/* The pages' one script: progress bars, and pages that follow work still running.

   The Content-Security-Policy refuses style="" attributes, so every Bootstrap progress bar
   (.progress[role=progressbar] with aria-valuenow and aria-valuemax, a .progress-bar inside) is drawn here from its
   aria values. An element with data-live-url follows that JSON address every second (with the session cookie):
     data-live-done, data-live-total   the names of the fields that count the work done and the work to do
     data-live-status                  the name of the field saying whether the work runs
     data-live-running                 the value of that field while it runs
   and updates the progress bar ([data-live-bar]) and the text ([data-live-text], from its data-live-template
   with {done} and {total}) inside it. Once the work no longer runs, the page is reloaded to show the outcome.
   After repeated failures to read the address, [data-live-stalled] is shown and the following stops.
   Without JavaScript the page says to reload it. */
(function () {
  "use strict";

  var EVERY_MS = 1000;
  var GIVE_UP_AFTER = 10; // failed reads in a row
  var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);

  function draw(bar, done, total) {
    var fill = bar.querySelector(".progress-bar");
    var percent = total > 0 ? Math.min(100, Math.max(0, (100 * done) / total)) : 0;
    bar.setAttribute("aria-valuenow", String(done));
    bar.setAttribute("aria-valuemax", String(total));
    if (fill) {
      fill.style.width = percent.toFixed(1) + "%"; // CSSOM, which the policy allows
    }
  }

  function drawStatic(bar) {
    draw(bar, Number(bar.getAttribute("aria-valuenow")) || 0, Number(bar.getAttribute("aria-valuemax")) || 0);
  }

  function follow(element) {
    var url = element.dataset.liveUrl;
    var doneField = element.dataset.liveDone || "done";
    var totalField = element.dataset.liveTotal || "total";
    var statusField = element.dataset.liveStatus || "status";
    var running = element.dataset.liveRunning || "running";
    var bar = element.querySelector("[data-live-bar]");
    var text = element.querySelector("[data-live-text]");
    var stalled = element.querySelector("[data-live-stalled]");
    var failures = 0;

    function show(data) {
      var done = Number(data[doneField]) || 0;
      var total = Number(data[totalField]) || 0;
      var words = null;
      if (text && text.dataset.liveTemplate) {
        words = text.dataset.liveTemplate.replace("{done}", numbers.format(done)).replace("{total}", numbers.format(total));
        if (text.textContent !== words) {
          text.textContent = words;
        }
      }
      if (bar) {
        draw(bar, done, total);
        if (words) {
          bar.setAttribute("aria-valuetext", words);
        }
      }
    }

    function failed() {
      failures += 1;
      if (failures >= GIVE_UP_AFTER) {
        if (stalled) {
          stalled.classList.remove("d-none");
        }
        return;
      }
      window.setTimeout(poll, EVERY_MS);
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(url + " answered " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          show(data);
          if (data[statusField] !== running) {
            window.location.reload();
            return;
          }
          window.setTimeout(poll, EVERY_MS);
        })
        .catch(failed);
    }

    window.setTimeout(poll, EVERY_MS);
  }

  document.querySelectorAll(".progress[role=progressbar][aria-valuenow]").forEach(drawStatic);
  document.querySelectorAll("[data-live-url]").forEach(follow);
})();

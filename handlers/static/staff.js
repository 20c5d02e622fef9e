/* Staff console: refresh the queue table every 15 s. The pages work without this file. */
(function () {
  "use strict";
  var rows = document.getElementById("queue-rows");
  if (!rows || !window.fetch) {
    return;
  }
  var url = rows.getAttribute("data-live");
  var every = Math.max(1000, parseInt(rows.getAttribute("data-every"), 10) || 15000);

  function refresh() {
    if (document.hidden) {
      window.setTimeout(refresh, every);
      return;
    }
    window.fetch(url, { credentials: "same-origin", redirect: "manual" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("signed out");
        }
        return response.text();
      })
      .then(function (html) {
        rows.innerHTML = html; /* server-rendered and escaped, same origin */
        window.setTimeout(refresh, every);
      })
      .catch(function () { /* signed out or offline: the page still works by reloading */ });
  }

  window.setTimeout(refresh, every);
})();

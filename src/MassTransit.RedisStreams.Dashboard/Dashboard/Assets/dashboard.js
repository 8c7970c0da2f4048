// The dashboard's only script: the overview refreshes its rows, and a box selects every entry on the page.
(function () {
  "use strict";

  var table = document.getElementById("streams");
  if (table && table.dataset.refreshUrl) {
    var body = table.querySelector("tbody");
    var stamp = document.getElementById("refreshed");
    var refreshes = 0;
    var refresh = function () {
      fetch(table.dataset.refreshUrl, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (rows) {
          body.innerHTML = rows;
          refreshes++;
          table.dataset.refreshes = String(refreshes);
          if (stamp) stamp.textContent = "Last refreshed " + new Date().toLocaleTimeString() + ".";
        })
        .catch(function (status) {
          if (stamp) stamp.textContent = "Refresh failed (" + status + "); trying again.";
        });
    };
    setInterval(refresh, Number(table.dataset.refreshMs) || 5000);
  }

  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[type=checkbox][name=id]").forEach(function (box) { box.checked = all.checked; });
    });
  }
})();

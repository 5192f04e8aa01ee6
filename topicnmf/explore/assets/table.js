var rows = document.querySelectorAll("#topic-table tbody tr");
rows.forEach(function (row) {
  row.addEventListener("click", function () { TN.select(row.dataset.topic); });
});
TN.on("select", function (t) {
  rows.forEach(function (row) {
    if (Number(row.dataset.topic) === t) row.setAttribute("aria-current", "true");
    else row.removeAttribute("aria-current");
  });
});

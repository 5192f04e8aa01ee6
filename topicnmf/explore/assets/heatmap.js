var cells = document.querySelectorAll("#heatmap rect");
cells.forEach(function (cell) {
  cell.addEventListener("click", function () { TN.select(cell.dataset.topic); });
});
TN.on("select", function (t) {
  cells.forEach(function (cell) {
    cell.classList.toggle("selected", Number(cell.dataset.topic) === t);
  });
});

var slider = document.getElementById("lambda");
var shown = document.getElementById("lambda-value");
var bars = document.getElementById("term-bars");
var title = document.getElementById("detail-title");
var stats = document.getElementById("detail-stats");
var docList = document.getElementById("doc-list");

// relevance = lambda * log(phi) + (1 - lambda) * log(phi / p): Sievert & Shirley (2014)
function ranked(t, lambda) {
  var share = TN.topics[t].share;
  return data.topics[t].terms.map(function (pair) {
    var phi = pair[1], p = data.p[pair[0]];
    return {
      term: data.vocab[pair[0]],
      overall: p,
      inTopic: Math.min(share * phi, p),
      relevance: lambda * Math.log(phi) + (1 - lambda) * Math.log(phi / p),
    };
  }).sort(function (a, b) {
    return b.relevance - a.relevance || (a.term < b.term ? -1 : a.term > b.term ? 1 : 0);
  }).slice(0, data.bars);
}

function drawBars(t) {
  var lambda = Number(slider.value);
  shown.textContent = lambda.toFixed(2);
  var terms = ranked(t, lambda);
  var width = 460, left = 120, row = 18;
  var max = Math.max.apply(null, terms.map(function (d) { return d.overall; }).concat([1e-12]));
  bars.textContent = "";
  bars.setAttribute("viewBox", "0 0 " + width + " " + Math.max(terms.length * row, row));
  terms.forEach(function (d, i) {
    var g = TN.svg("g", { "class": "term" });
    var label = TN.svg("text", { x: left - 6, y: i * row + 13, "text-anchor": "end" });
    label.textContent = d.term;
    var scale = (width - left - 10) / max;
    var all = TN.svg("rect", { "class": "overall", x: left, y: i * row + 2,
      width: Math.max(d.overall * scale, 0.5), height: row - 4 });
    var part = TN.svg("rect", { "class": "intopic", x: left, y: i * row + 2,
      width: Math.max(d.inTopic * scale, 0.5), height: row - 4 });
    var tip = TN.svg("title");
    tip.textContent = d.term + ": " + d.inTopic.toPrecision(3) + " in this topic of "
      + d.overall.toPrecision(3) + " overall";
    g.append(label, all, part, tip);
    bars.append(g);
  });
  bars.setAttribute("data-terms", terms.map(function (d) { return d.term; }).join(","));
}

function drawDocs(t) {
  docList.textContent = "";
  var docs = data.topics[t].docs;
  if (!docs) {
    var none = document.createElement("li");
    none.textContent = "No documents in this report (give a corpus, or a model fitted with "
      + "its document weights).";
    docList.append(none);
    return;
  }
  docs.forEach(function (d) {
    var li = document.createElement("li");
    var id = document.createElement("span");
    id.className = "doc-id";
    id.textContent = d.id;
    var w = document.createElement("span");
    w.className = "doc-weight";
    w.textContent = " weight " + d.weight.toFixed(3);
    li.append(id, w);
    if (d.snippet) {
      var s = document.createElement("span");
      s.className = "snippet";
      s.textContent = d.snippet;
      li.append(s);
    }
    docList.append(li);
  });
}

TN.on("select", function (t) {
  var topic = TN.topics[t];
  title.textContent = "Topic " + t + ": " + topic.label;
  stats.textContent = (100 * topic.share).toFixed(1) + "% of the corpus"
    + (topic.npmi === null ? "" : " · NPMI " + topic.npmi.toFixed(3));
  drawBars(t);
  drawDocs(t);
});
slider.addEventListener("input", function () {
  if (TN.selected !== null) drawBars(TN.selected);
});

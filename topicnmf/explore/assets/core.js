"use strict";
// The shared object of the report's sections: the data, the selected topic, events.
var TN = (function () {
  var data = JSON.parse(document.getElementById("tn-data").textContent);
  var listeners = {};
  var tn = {
    data: data,
    topics: data.topics,
    selected: null,
    on: function (event, fn) { (listeners[event] = listeners[event] || []).push(fn); },
    emit: function (event, value) {
      (listeners[event] || []).forEach(function (fn) { fn(value); });
    },
    select: function (t) {
      t = Number(t);
      if (!(t >= 0 && t < data.topics.length)) return;
      tn.selected = t;
      tn.emit("select", t);
    },
    start: function () { if (data.topics.length) tn.select(0); },
    svg: function (name, attrs) {
      var el = document.createElementNS("http://www.w3.org/2000/svg", name);
      Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
      return el;
    },
  };
  return tn;
})();

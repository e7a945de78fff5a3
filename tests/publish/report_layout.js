/* Measures the rendered report's layout in the page and returns every readability defect found:
 *  - two tick labels of one chart axis that overlap (Chart.js's own label items and fonts);
 *  - a cell of a data table whose content overflows it, or a table wider than its section;
 *  - a line break inside a word: between two characters of a cell that are neither a space nor
 *    Japanese punctuation and have no <wbr>/<br> between them ("給与計|算", "SEV1-|2").
 * Evaluated by test_report_browser.py after every chart has rendered; an empty array is a pass. */
(function () {
  "use strict";
  var problems = [];
  var GAP = 2; // px two neighbouring labels keep between them at least

  function labelLines(label) { return Array.isArray(label) ? label : [label]; }

  function axisLabels(figureName, chart, scale) {
    var ctx = chart.ctx;
    var boxes = scale.getLabelItems().map(function (item) {
      var lines = labelLines(item.label).map(String);
      ctx.save();
      ctx.font = item.font.string;
      var width = Math.max.apply(null, lines.map(function (l) { return ctx.measureText(l).width; }));
      ctx.restore();
      var height = item.font.lineHeight * lines.length;
      var x = item.options.translation[0];
      var y = item.options.translation[1];
      var align = item.options.textAlign;
      var left = align === "left" ? x : align === "right" ? x - width : x - width / 2;
      return { text: lines.join(" "), left: left, right: left + width, top: y, bottom: y + height,
               rotation: item.options.rotation || 0, x: x, y: y, lineHeight: item.font.lineHeight };
    });
    for (var i = 1; i < boxes.length; i += 1) {
      var a = boxes[i - 1];
      var b = boxes[i];
      var overlap;
      if (Math.abs(a.rotation) > 0.01) {
        // rotated labels run parallel: they overlap when closer than a line apart
        overlap = Math.abs(b.x - a.x) * Math.sin(Math.abs(a.rotation)) < a.lineHeight;
      } else if (scale.isHorizontal()) {
        overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left) > -GAP;
      } else {
        var ha = a.bottom - a.top;
        overlap = Math.abs(b.y - a.y) < ha - 1;
      }
      if (overlap) {
        problems.push("chart " + figureName + " axis " + scale.id + ": labels '" + a.text + "' and '" + b.text +
                      "' overlap");
      }
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("figure[data-chart]"), function (figure) {
    var chart = Chart.getChart(figure.querySelector("canvas"));
    if (!chart) { problems.push("chart " + figure.dataset.chart + ": not drawn"); return; }
    Object.keys(chart.scales).forEach(function (id) {
      var scale = chart.scales[id];
      if (scale.options.display !== false && scale.options.ticks.display !== false) {
        axisLabels(figure.dataset.chart, chart, scale);
      }
    });
  });

  // -- tables -------------------------------------------------------------------------------
  var OPENING = "（「『【〔〈《([";
  var CLOSING = "、。，．・）」』】〕〉》)],";

  function characters(cell) {
    // every visible character of the cell in order, with its line box and what separates it from the previous one
    var out = [];
    var walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    var pendingBreak = false;
    var range = document.createRange();
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeType === Node.ELEMENT_NODE) {
        // <wbr>, <br> and the start of a block are places where a line may end
        if (node.tagName === "WBR" || node.tagName === "BR" ||
            !/^inline/.test(window.getComputedStyle(node).display)) { pendingBreak = true; }
        continue;
      }
      for (var i = 0; i < node.data.length; i += 1) {
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        var rect = range.getClientRects()[0];
        if (!rect || rect.width === 0) {
          // a space collapsed at the end of a line is still where the line broke
          if (isSpace(node.data[i])) { pendingBreak = true; }
          continue;
        }
        out.push({ ch: node.data[i], top: rect.top, bottom: rect.bottom, allowed: pendingBreak });
        pendingBreak = false;
      }
    }
    return out;
  }

  function isSpace(ch) { return /\s/.test(ch); }

  function midWordBreaks(cell) {
    var chars = characters(cell);
    var found = [];
    for (var i = 1; i < chars.length; i += 1) {
      var prev = chars[i - 1];
      var cur = chars[i];
      var newLine = cur.top >= prev.bottom - 1;
      if (!newLine || cur.allowed || isSpace(prev.ch) || isSpace(cur.ch) ||
          CLOSING.indexOf(prev.ch) >= 0 || OPENING.indexOf(cur.ch) >= 0) { continue; }
      var text = chars.map(function (c) { return c.ch; }).join("");
      found.push(text.slice(Math.max(0, i - 8), i) + "|" + text.slice(i, i + 8));
    }
    return found;
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.data"), function (table, index) {
    var name = (table.closest("section") || {}).id + " table " + index;
    var section = table.parentElement;
    var scrolls = window.getComputedStyle(section).overflowX === "auto";
    if (!scrolls && table.getBoundingClientRect().width > section.clientWidth + 1) {
      problems.push(name + ": " + Math.round(table.getBoundingClientRect().width) + "px wide in a " +
                    section.clientWidth + "px section");
    }
    Array.prototype.forEach.call(table.querySelectorAll("th, td"), function (cell) {
      var text = cell.textContent.replace(/\s+/g, " ").trim();
      if (cell.scrollWidth > cell.clientWidth + 1) {
        problems.push(name + ": '" + text + "' overflows its cell (" + cell.scrollWidth + " > " + cell.clientWidth + "px)");
      }
      if (cell.classList.contains("summary")) { return; } // prose: Japanese text wraps between any characters
      midWordBreaks(cell).forEach(function (at) {
        problems.push(name + ": '" + text + "' breaks inside a word at '" + at + "'");
      });
    });
  });
  return problems;
})()

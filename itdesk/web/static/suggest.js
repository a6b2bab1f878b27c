// Show the knowledge-base articles that match what is typed, before the form is sent.
(function () {
  var form = document.getElementById("report");
  var box = document.getElementById("suggestions");
  if (!form || !box || !window.fetch) return;
  var timer = null;
  function look() {
    var q = (form.elements["title"].value + " " + form.elements["description"].value).trim();
    if (q.length < 2) return;
    fetch("/kb/suggest?q=" + encodeURIComponent(q))
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (found) {
        box.textContent = "";
        if (!found.length) return;
        var p = document.createElement("p");
        p.textContent = box.getAttribute("data-heading") || "";
        var ul = document.createElement("ul");
        found.forEach(function (a) {
          var li = document.createElement("li");
          var link = document.createElement("a");
          link.href = "/kb/" + encodeURIComponent(a.slug);
          link.textContent = a.title;
          li.appendChild(link);
          ul.appendChild(li);
        });
        if (p.textContent) box.appendChild(p);
        box.appendChild(ul);
      })
      .catch(function () {});
  }
  ["title", "description"].forEach(function (name) {
    form.elements[name].addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(look, 300);
    });
  });
})();

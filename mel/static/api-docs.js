// Starts Swagger UI on /api/docs from the schema URL on the page (no inline script: strict CSP).
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  if (!root || !window.SwaggerUIBundle) {
    return;
  }
  // An operation's summary is a button that holds a link to the operation: one control inside another
  // is lost to keyboards and screen readers. The link becomes plain text (the button opens it).
  new MutationObserver(function () {
    Array.prototype.forEach.call(root.querySelectorAll(".opblock-summary-control a[href]"), function (link) {
      var text = document.createElement("span");
      text.className = link.className;
      text.textContent = link.textContent;
      link.replaceWith(text);
    });
  }).observe(root, { childList: true, subtree: true });
  window.SwaggerUIBundle({
    url: root.dataset.schema,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    tryItOutEnabled: false
  });
});

// Starts Swagger UI on /api/docs from the schema URL on the page (no inline script: strict CSP).
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  if (!root || !window.SwaggerUIBundle) {
    return;
  }
  window.SwaggerUIBundle({
    url: root.dataset.schema,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    tryItOutEnabled: false
  });
});

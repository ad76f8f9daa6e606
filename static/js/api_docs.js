// The API docs page: Swagger UI over /api/v1/schema/. Calls made with "Try it out" carry the session cookie and
// the CSRF token (writes need it); a token pasted in "Authorize" is sent as "Authorization: Bearer …" instead.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  var csrfToken = root.dataset.csrfToken;
  window.SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    domNode: root,
    deepLinking: true,
    layout: "BaseLayout",
    presets: [window.SwaggerUIBundle.presets.apis],
    defaultModelsExpandDepth: 0,
    persistAuthorization: false,
    requestInterceptor: function (request) {
      if (request.method && request.method.toUpperCase() !== "GET") {
        request.headers["X-CSRFToken"] = csrfToken;
      }
      return request;
    },
  });
})();

// The docs page: Swagger UI over this desk's own /openapi.json. "Authorize" takes a key (Bearer).
/* global SwaggerUIBundle */
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#docs',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  // Off: the validator badge would send the document to a third party's service.
  validatorUrl: null,
});

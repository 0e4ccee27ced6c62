"""OpenAPI description of DeepStack's key (drf-spectacular extension): the ``api_key`` form
field is described with each request body; the scheme shown is facecore's header, which works
too. Keyless calls (FACECORE_DEEPSTACK_APPLICATION) need neither."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class DeepStackKeyScheme(OpenApiAuthenticationExtension):
    target_class = "adapters.deepstack.auth.DeepStackKey"
    name = "DeepStackKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Key"}

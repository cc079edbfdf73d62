"""Response headers every page gets: CSP, no-store on tenant pages, frame-ancestors none."""

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        # Tenant pages and the API carry rates, notes and scores: never cache them.
        if request.path.startswith(("/o/", "/api/")) or getattr(request, "membership", None):
            response.headers["Cache-Control"] = "no-store"
        return response

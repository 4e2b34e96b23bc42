import Hummingbird

/// The page's stylesheet and scripts (`Web/Assets`) under `/assets/`: with their validators (ETag,
/// Last-Modified, 304) and revalidated on every use, so that a new release is picked up at once and an
/// unchanged file costs a 304.
struct AssetMiddleware<Context: RequestContext>: RouterMiddleware {
    let files = FileMiddleware<Context, LocalFileSystem>(
        PageRenderer.assetsFolder, urlBasePath: "/assets", cacheControl: .init([(MediaType(type: .any), [.noCache])])
    )

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/assets/") else { return try await next(request, context) }
        var response = try await files.handle(request, context: context, next: next)
        response.headers[.init("X-Content-Type-Options")!] = "nosniff"
        return response
    }
}

import Foundation
import Hummingbird

extension Router {
    /// Serves the OpenAPI document, the source of truth of this API, at `/openapi.yaml`.
    func addOpenAPIDocument() {
        let document = Bundle.module.url(forResource: "openapi", withExtension: "yaml").flatMap { try? Data(contentsOf: $0) } ?? Data()
        get("/openapi.yaml") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: document))
            )
        }
    }
}

import KeelCore
import NIOCore
import Testing

/// Keel's one HTML escaper: templates, Markdown and the built-in error page all go through it.
@Suite struct HTMLEscapingTests {
    @Test func escapesTheFiveCharactersAndNothingElse() {
        #expect(HTMLEscaping.escape(#"<a href="x">Tom & Jerry's</a>"#) == "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;")
        #expect(HTMLEscaping.escape("plain text, ünïcödé 🐉") == "plain text, ünïcödé 🐉")
        #expect(HTMLEscaping.escape("🐉<🐉") == "🐉&lt;🐉", "multi-byte text around an escape stays whole")
        #expect(HTMLEscaping.escape("") == "")
        #expect(HTMLEscaping.escape("e\u{301}&") == "e\u{301}&amp;")
    }

    /// The three ways in (a string, a ByteBuffer, a byte array) give the same bytes for every byte value.
    @Test func everyWayInGivesTheSameBytes() {
        let text = String(decoding: (0...127).map { UInt8($0) }, as: UTF8.self) + "é🐉<>&\"'"
        var buffer = ByteBuffer(string: "kept:")
        HTMLEscaping.write(text, into: &buffer)
        var bytes = Array("kept:".utf8)
        HTMLEscaping.append(text.utf8, to: &bytes)
        #expect(Array(buffer.readableBytesView) == bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "kept:" + HTMLEscaping.escape(text))
        for byte in UInt8(0)...UInt8(255) {
            var one: [UInt8] = []
            HTMLEscaping.append(byte, to: &one)
            #expect((one.count > 1) == HTMLEscaping.needsEscaping(byte), "byte \(byte)")
        }
    }
}

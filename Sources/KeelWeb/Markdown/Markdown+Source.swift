// The bytes Markdown is read as: byte constants, and the source split into lines with tabs expanded.

import KeelCore

extension Markdown {
    typealias Line = ArraySlice<UInt8>

    enum Byte {
        static let newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r"), tab = UInt8(ascii: "\t")
        static let space = UInt8(ascii: " "), backslash = UInt8(ascii: "\\"), backtick = UInt8(ascii: "`")
        static let tilde = UInt8(ascii: "~"), star = UInt8(ascii: "*"), underscore = UInt8(ascii: "_")
        static let hash = UInt8(ascii: "#"), greater = UInt8(ascii: ">"), less = UInt8(ascii: "<")
        static let dash = UInt8(ascii: "-"), plus = UInt8(ascii: "+"), equals = UInt8(ascii: "=")
        static let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]"), bang = UInt8(ascii: "!")
        static let openParen = UInt8(ascii: "("), closeParen = UInt8(ascii: ")"), ampersand = UInt8(ascii: "&")
        static let quote = UInt8(ascii: "\""), apostrophe = UInt8(ascii: "'"), semicolon = UInt8(ascii: ";")
        static let colon = UInt8(ascii: ":"), at = UInt8(ascii: "@"), dot = UInt8(ascii: "."), digit0 = UInt8(ascii: "0")

        static func isPunctuation(_ byte: UInt8) -> Bool {
            switch byte {
            case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
            default: return false
            }
        }

        /// Spaces, tabs and line ends; the start and end of the text count as whitespace for emphasis.
        static func isWhitespace(_ byte: UInt8?) -> Bool {
            guard let byte else { return true }
            return byte == space || byte == newline || byte == tab || byte == 0x0B || byte == 0x0C || byte == carriageReturn
        }

        static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
        static func isHexDigit(_ byte: UInt8) -> Bool { isDigit(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte) }
        static func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        static func isAlphanumeric(_ byte: UInt8) -> Bool { isLetter(byte) || isDigit(byte) }
    }

    enum Source {
        /// The text's lines: `\r\n` and `\r` end lines like `\n`, NUL becomes U+FFFD, and tabs become spaces to the next
        /// multiple of four columns (CommonMark's tab stops), so indentation is counted in bytes from here on.
        static func lines(of text: String) -> [Line] {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.utf8.count)
            var column = 0
            var previous: UInt8 = 0
            for byte in text.utf8 {
                defer { previous = byte }
                switch byte {
                case Byte.carriageReturn:
                    bytes.append(Byte.newline)
                    column = 0
                case Byte.newline:
                    if previous != Byte.carriageReturn { bytes.append(Byte.newline) }
                    column = 0
                case Byte.tab:
                    let width = 4 - column % 4
                    bytes.append(contentsOf: repeatElement(Byte.space, count: width))
                    column += width
                case 0:
                    bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    column += 1
                default:
                    bytes.append(byte)
                    column += 1
                }
            }
            return bytes.split(separator: Byte.newline, omittingEmptySubsequences: false)
        }

        static func indent(_ line: Line) -> Int {
            var count = 0
            for byte in line {
                guard byte == Byte.space else { break }
                count += 1
            }
            return count
        }

        static func isBlank(_ line: Line) -> Bool { line.allSatisfy { $0 == Byte.space } }

        static func withoutIndent(_ line: Line) -> Line { line.dropFirst(indent(line)) }

        static func trimmed(_ line: Line) -> Line {
            var line = line
            while line.first == Byte.space { line.removeFirst() }
            while line.last == Byte.space { line.removeLast() }
            return line
        }
    }
}

public import KeelKernel
import Foundation

/// A message for the next page a user sees ("Your settings were saved."), kept in the session until shown.
public struct FlashMessage: Sendable, Equatable, Codable {
    public enum Level: String, Sendable, Codable, CaseIterable {
        case info, success, warning, error
    }

    public let level: Level
    public let message: String

    public init(_ message: String, level: Level = .info) {
        self.level = level
        self.message = message
    }
}

extension Session {
    static let flashKey = "_keel.flash"

    /// Queues a message for the next page rendered for this session (after a redirect, typically).
    public func flash(_ message: String, level: FlashMessage.Level = .info) {
        var queued = peekFlashes()
        queued.append(FlashMessage(message, level: level))
        self[Self.flashKey] = Self.encode(queued)
    }

    /// The queued messages, removed from the session (a page shows each once).
    public func takeFlashes() -> [FlashMessage] {
        guard self[Self.flashKey] != nil else { return [] }
        let queued = peekFlashes()
        self[Self.flashKey] = nil
        return queued
    }

    func peekFlashes() -> [FlashMessage] {
        guard let text = self[Self.flashKey], let data = text.data(using: .utf8) else { return [] }
        return (try? JSONDecoder().decode([FlashMessage].self, from: data)) ?? []
    }

    static func encode(_ messages: [FlashMessage]) -> String? {
        guard let data = try? JSONEncoder().encode(messages) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

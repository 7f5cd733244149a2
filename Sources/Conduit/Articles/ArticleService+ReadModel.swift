import FluentKit
import Foundation
import HTTPTypes
import Keel
import SQLKit

/// The author columns every article and comment row reads from Profiles' tables.
///
/// Articles shows each article's and comment's author as a RealWorld profile (`username`, `bio`, `image`, and whether
/// the reader follows them). Going through Profiles' public API for each row would be a query per row (the N+1 this
/// codebase's tests forbid), so the read statements join `users` (owned by Accounts) and probe `follows` (owned by
/// Profiles) themselves: that join is Articles' read model of an author. It lives in two places only, both in this
/// module: the author columns below, read by `author(of:)`, and the statements that select them
/// (`ArticleService.select(body:viewer:extraColumns:)` and `commentColumns(viewer:)`); no other code of Articles reads those
/// tables, and Articles never writes them. A change to `users` or `follows` that these statements depend on
/// (`username`, `bio`, `image`, `follower_id`, `followed_id`) must update them, which the HTTP tests of both modules
/// catch.
extension ArticleService {
    /// The author columns (`username`, `bio`, `image`, `following`) every article and comment row carries.
    static func author(of row: some SQLRow) throws -> ProfileBody {
        ProfileBody(
            username: try row.decode(column: "username", as: String.self), bio: try row.decodeIfPresent(column: "bio", as: String.self),
            image: try row.decodeIfPresent(column: "image", as: String.self), following: try row.decode(column: "following", as: Bool.self))
    }
}

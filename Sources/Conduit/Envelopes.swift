import Hummingbird

// RealWorld's response bodies: each a one-key object around the resource, returned by handlers and encoded by Keel's
// response encoder (`JSONBodyEncoder`, `KeelContext.responseEncoder`).

/// `{"user": …}`
struct UserEnvelope: ResponseEncodable, Sendable { let user: UserBody }
/// `{"profile": …}`
struct ProfileEnvelope: ResponseEncodable, Sendable { let profile: ProfileBody }
/// `{"article": …}`
struct ArticleEnvelope: ResponseEncodable, Sendable { let article: ArticleBody }
/// `{"comment": …}`
struct CommentEnvelope: ResponseEncodable, Sendable { let comment: CommentBody }
/// `{"comments": […]}`
struct CommentsEnvelope: ResponseEncodable, Sendable { let comments: [CommentBody] }
/// `{"tags": […]}`
struct TagsEnvelope: ResponseEncodable, Sendable { let tags: [String] }
/// `{"articles": […], "articlesCount": n}`
extension ArticleList: ResponseEncodable {}

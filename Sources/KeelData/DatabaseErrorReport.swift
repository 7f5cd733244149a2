#if PostgreSQL
import PostgresNIO
#endif

/// What a database error says to the operator who reads a log line or a command's output.
///
/// PostgresNIO's `PSQLError` describes itself as "Generic description to prevent accidental leakage of sensitive
/// data", which is all an operator would see of a failed statement. This report gives what PostgreSQL said instead:
/// its SQLSTATE, message, detail and hint, and the schema, table, column and constraint it names. Never the statement
/// or its bound values (the server's detail may quote the conflicting key, as PostgreSQL's own log does). Any other
/// error is its description.
///
/// ```
/// PostgreSQL error 23505: duplicate key value violates unique constraint "keel_permissions_pkey"
///   (detail: Key (codename)=(notes.edit_note) already exists.; table: keel_permissions; constraint: keel_permissions_pkey)
/// ```
public enum DatabaseErrorReport {
    /// The report for `error`: PostgreSQL's own words for a server error, the description otherwise.
    public static func describe(_ error: any Error) -> String {
        #if PostgreSQL
        if let error = error as? PSQLError { return describe(error) }
        #endif
        return String(describing: error)
    }

    #if PostgreSQL
    static func describe(_ error: PSQLError) -> String {
        guard let info = error.serverInfo else {
            // Not the server's words: the connection failed, closed, or was cancelled.
            let cause = error.underlying.map { ": \(String(describing: $0))" } ?? ""
            return "PostgreSQL client error \(error.code)\(cause)"
        }
        let state = info[.sqlState].map { " \($0)" } ?? ""
        var report = "PostgreSQL error\(state): \(info[.message] ?? "(no message)")"
        let named: [(String, PSQLError.ServerInfo.Field)] = [
            ("detail", .detail), ("hint", .hint), ("schema", .schemaName), ("table", .tableName), ("column", .columnName),
            ("constraint", .constraintName),
        ]
        let parts = named.compactMap { label, field in info[field].map { "\(label): \($0)" } }
        if !parts.isEmpty { report += " (" + parts.joined(separator: "; ") + ")" }
        return report
    }
    #endif
}

public import SQLKit

/// Which rows a tracked write touches: column comparisons joined by AND, every value bound.
///
/// ```swift
/// RowFilter("id", .equal, 7)
/// RowFilter("user_id", .equal, viewer).and("article_id", .equal, article)
/// RowFilter("id", in: [3, 4, 5])
/// ```
public struct RowFilter: Sendable {
    let predicate: any SQLExpression

    /// `column op value`, the value bound.
    public init(_ column: String, _ op: SQLBinaryOperator, _ value: some Encodable & Sendable) {
        predicate = SQLBinaryExpression(left: SQLColumn(column), op: op, right: SQLBind(value))
    }

    /// `column IN (values…)`, each value bound (no row matches an empty list).
    public init(_ column: String, in values: [any Encodable & Sendable]) {
        predicate = values.isEmpty
            ? SQLRaw("1 = 0")
            : SQLBinaryExpression(left: SQLColumn(column), op: SQLBinaryOperator.in, right: SQLBind.group(values))
    }

    /// Any SQLKit expression (binds only).
    public init(expression: any SQLExpression) {
        predicate = expression
    }

    /// Both this filter and `column op value`.
    public func and(_ column: String, _ op: SQLBinaryOperator, _ value: some Encodable & Sendable) -> RowFilter {
        and(RowFilter(column, op, value))
    }

    /// Both filters.
    public func and(_ other: RowFilter) -> RowFilter {
        RowFilter(expression: SQLBinaryExpression(left: SQLGroupExpression(predicate), op: SQLBinaryOperator.and,
                                                  right: SQLGroupExpression(other.predicate)))
    }
}

import Foundation
import KeelTesting
import Testing

@Suite struct HTMLCheckerTests {
    static func page(_ body: String) -> String {
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>T</title><style>p > a { color: red; }</style></head>\n"
            + "<body>\n\(body)\n</body>\n</html>\n"
    }

    @Test func aGoodPageHasNoProblems() {
        let html = Self.page(#"<p class=actions>a <b>b</b> &amp; 1 < 2</p><!-- <p> --><form method="post"><input name=q><button type="submit">Go</button></form><textarea name="x"><p></textarea>"#)
        #expect(HTMLChecker.problems(in: html) == [])
    }

    /// The defect the checker was written for: `<p class="actions">` around forms, closed by the parser at the first form.
    @Test func aFormInsideAParagraphIsReported() {
        let problems = HTMLChecker.problems(in: Self.page("<p class=\"actions\">\n<form method=\"post\"><button>Go</button></form>\n</p>"))
        #expect(problems.map(\.line) == [6])
        #expect(problems.first?.message.contains("<form> inside <p> (line 5)") == true)
    }

    @Test func endTagsThatCloseTheWrongElementOrNothing() {
        #expect(HTMLChecker.problems(in: Self.page("<div><span></div>")).map(\.message) == ["</div> closes <span> (line 5) too"])
        #expect(HTMLChecker.problems(in: Self.page("</span>")).map(\.message) == ["</span> closes nothing that is open"])
        #expect(HTMLChecker.problems(in: Self.page("<div>")).map(\.message) == ["</body> closes <div> (line 5) too"])
        #expect(HTMLChecker.problems(in: "<!doctype html><html lang=en><title>T</title><div>").map(\.message) == ["<div> is never closed", "<html> is never closed"])
        #expect(HTMLChecker.problems(in: Self.page("<br></br>")).map(\.message) == ["</br> closes a void element"])
        #expect(HTMLChecker.problems(in: Self.page("<div/>")).count == 2, "a self-closed div stays open")
    }

    @Test func nestingDuplicatesAndTheDocument() {
        #expect(HTMLChecker.problems(in: Self.page(#"<a href="/"><a href="/x">x</a></a>"#)).map(\.message) == ["<a> inside <a> (line 5)"])
        #expect(HTMLChecker.problems(in: Self.page(#"<i id="x"></i><b id="x"></b>"#)).map(\.message) == [#"id "x" is used twice (first on line 5)"#])
        #expect(HTMLChecker.problems(in: Self.page(#"<i class="a" class="b"></i>"#)).map(\.message) == ["<i> has the attribute class twice"])
        let bare = "<html><head><title>T</title></head><body></body></html>"
        #expect(HTMLChecker.problems(in: bare).map(\.message)
                == ["no <!doctype html> before <html>: the page renders in quirks mode", "<html> has no lang attribute"])
        let twoTitles = Self.page("").replacingOccurrences(of: "<title>T</title>", with: "<title>A</title><title>B</title>")
        #expect(HTMLChecker.problems(in: twoTitles).map(\.message) == ["the page has 2 <title> elements, not one"])
        #expect(HTMLChecker.problems(in: Self.page("<script>")).map(\.message) == ["<script> is never closed"])
    }
}

import Keel
import KeelWeb
import Testing

/// Form fields are counted and judged by the same `TextRules` as JSON input.
@Suite struct FormInputTests {
    @Test func formFieldsUseTheSameRules() throws {
        var problems = ValidationProblems()
        let form = FormInput(fields: ["title": "\u{1F}\u{A0}", "name": "e\u{301}e\u{301}"])
        #expect(form.string("title", problems: &problems, required: true) == nil)
        #expect(form.string("name", problems: &problems, maxLength: 3) == nil, "four scalars are more than three")
        #expect(problems.messages["title"] == ["can't be blank"])
        #expect(problems.messages["name"] == ["is too long (at most 3 characters)"])
    }
}

@testable import Storage
import Testing

@Suite("SQL script splitting")
struct SQLScriptTests {
    @Test func splitsOnTopLevelSemicolons() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'semi;colon');
            /* block; comment */ CREATE TABLE "b;c" (y int);
            CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
            DO $body$ BEGIN PERFORM 1; END $body$;
            SELECT 'it''s; fine'
            """
        let statements = SQLScript.statements(script)
        #expect(statements.count == 5)
        #expect(statements[0].hasSuffix("DEFAULT 'semi;colon')"))
        #expect(statements[1].contains(#""b;c""#))
        #expect(statements[2].hasSuffix("$$ SELECT 1; $$"))
        #expect(statements[3].hasSuffix("$body$ BEGIN PERFORM 1; END $body$"))
        #expect(statements[4] == "SELECT 'it''s; fine'")
    }

    @Test func dropsEmptyAndCommentOnlyStatements() {
        #expect(SQLScript.statements(";;\n-- only a comment\n;  ").isEmpty)
    }

    @Test func positionalParametersAreNotDollarQuotes() {
        #expect(SQLScript.statements("SELECT $1; SELECT $2").count == 2)
    }
}

"""Entra's expression language: Microsoft's documented examples, the null and edge cases, both forms, and errors."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import pytest

from scim_conformance.expressions import (
    FUNCTIONS,
    IGNORE,
    Attribute,
    Comparison,
    Constant,
    Context,
    ExpressionError,
    Function,
    attributes,
    check,
    evaluate,
    finish,
    from_tree,
    functions,
    parse,
    to_text,
)

USER = {
    "userPrincipalName": "John.Doe@contoso.com",
    "mail": None,
    "givenName": "John",
    "surname": "Doe",
    "displayName": "",
    "country": "USA",
    "state": "QLD",
    "department": "Sales",
    "telephoneNumber": "+91 9998887777",
    "mobile": "+1 (999) 888-7777",
    "IsSoftDeleted": False,
    "proxyAddresses": ["SMTP:a@x", "smtp:b@x", "SMTP:a@x"],
    "appRoleAssignments": [{"id": "0b5b", "value": "basic", "displayName": "Basic"},
                           {"id": "9a1c", "value": "manager", "displayName": "Manager"}],
    "extensionAttribute1": "20150123105347.1Z",
    "extensionAttribute5": "PermissionSetOne, PermissionSetTwo",
    "StatusHireDate": "2012-03-16-07:00",
}


def run(text: str, **extra: object) -> object:
    return finish(evaluate(parse(text), {**USER, **extra}))


DOCUMENTED = [
    # Each row is an example from Microsoft's function reference, with its documented output.
    ('Append([userPrincipalName], ".test")', "John.Doe@contoso.com.test"),
    ("BitAnd(&HF, &HF7)", 7),
    ('CDate("2021-06-30+08:00")', "6/29/2021 4:00:00 PM"),
    ('CDate("2009-06-15T01:45:30-07:00")', "6/15/2009 8:45:30 AM"),
    ("CDate([StatusHireDate])", "3/16/2012 7:00:00 AM"),
    ("Coalesce([mail],[userPrincipalName])", "John.Doe@contoso.com"),
    ('ConvertToBase64("Hello world!")', "SABlAGwAbABvACAAdwBvAHIAbABkACEA"),
    ('ConvertToUTF8Hex("Hello world!")', "48656C6C6F20776F726C6421"),
    ('DateAdd("d", 7, CDate([StatusHireDate]))', "3/23/2012 7:00:00 AM"),
    ('DateAdd("d", -10, CDate([StatusHireDate]))', "3/6/2012 7:00:00 AM"),
    ('DateAdd("ww", 2, CDate([StatusHireDate]))', "3/30/2012 7:00:00 AM"),
    ('DateAdd("m", 10, CDate([StatusHireDate]))', "1/16/2013 7:00:00 AM"),
    ('DateAdd("yyyy", 2, CDate([StatusHireDate]))', "3/16/2014 7:00:00 AM"),
    ('DateDiff("d", CDate("2021-08-18+08:00"), CDate("2021-08-31+08:00"))', 13),
    ('DateDiff("d", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))', -3449),
    ('DateDiff("ww", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))', -493),
    ('DateDiff("m", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))', -113),
    ('DateDiff("yyyy", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))', -9),
    ('DateDiff("d", CDate("2021-08-31+08:00"), CDate("2021-08-31+08:00"))', 0),
    ('DateDiff("h", CDate("2021-08-24"), CDate("2021-08-25"))', 24),
    ('DateDiff("n", CDate("2021-08-24"), CDate("2021-08-25"))', 1440),
    ('DateDiff("s", CDate("2021-08-24"), CDate("2021-08-25"))', 86400),
    ("DateFromNum(129699324000000000)", "1/1/2012 11:00:00 PM"),
    ('FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")', "2015-01-23"),
    ('IIF([country]="USA",[country],[department])', "USA"),
    ('IIF([country]="USA",IIF([state]="CA","True","False"),"False")', "False"),
    ('IIF([country]="USA","True",IIF([state]="CA","True","False"))', "True"),
    ('InStr("The quick brown fox","quick")', 5),
    ('InStr("repEated","e",3,vbBinaryCompare)', 7),
    ("Item([proxyAddresses], 1)", "SMTP:a@x"),
    ('Left("John Doe", 3)', "Joh"),
    ("NormalizeDiacritics([givenName])", "John"),
    ('NormalizeDiacritics("Zoë")', "Zoe"),
    ('PCase("PABLO GONSALVES (SECOND)")', "Pablo Gonsalves (Second)"),
    ('''PCase("PINTO-DE'SILVA"," '-")''', "Pinto-De'Silva"),
    ('PCase(Join(" ","GREGORY","JAMES"))', "Gregory James"),
    ('Replace("Product Developer","Product Developer", , , "Software Engineer", , )', "Software Engineer"),
    ('Replace("jsmith","<username>", , , , , "<username>@contoso.com")', "jsmith@contoso.com"),
    (r'Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )',
     "9998887777"),
    # The page shows 19998887777, but its pattern has no "+" in it, so .NET (like Python) keeps the "+".
    (r'Replace([mobile], , "[()\\s-]+", , "", , )', "+19998887777"),
    (r'Replace("545 Tremont Street", ,"(?<streetNumber>^\\d*)","streetNumber", "888", , )', "888 Tremont Street"),
    (r'Replace("jsmith@contoso.com", , "(?<Suffix>@(.)*)", "Suffix", "", , )', "jsmith"),
    (r'Replace("", , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , "+91 8887779999", )',
     "8887779999"),
    ('Replace("john_doe72", , "[a-zA-Z_]*", , "", , )', "72"),
    ('Replace("john.doe@contoso.com", "@contoso.com", , ,"", ,)', "john.doe"),
    ('Split([extensionAttribute5], ",")', ["PermissionSetOne", "PermissionSetTwo"]),
    ('Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", '
     '"Australia/Adelaide")', "Australia/Brisbane"),
    ('ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [givenName], [surname]))), "contoso.com"))',
     "john.doe@contoso.com"),
    ('Word("The quick brown fox",3," ")', "brown"),
    ('Word("This,string!has&many separators",3,",!&#")', "has"),
    ("Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))", "JohDoe"),
    ('Join(", ", "", [surname], [givenName])', "Doe, John"),
    ('NumFromDate(Join("", FormatDateTime("2020-12-31-08:00", ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))',
     132539615990000000),
]


@pytest.mark.parametrize("expression, expected", DOCUMENTED)
def test_documented_examples(expression, expected):
    assert run(expression) == expected


def test_the_documented_object_id_example_keeps_only_digits_after_1000():
    # The page's sample output was made from another GUID than its input; the shape is what carries over.
    value = run('Join("", 1000, Replace(ConvertToUTF8Hex([objectId]), , "[a-zA-Z_]*", , "", , ))',
                objectId="00aa00aa-bb11-cc22-dd33-44ee44ee44ee")
    assert value == "1000" + "".join(c for c in b"00aa00aa-bb11-cc22-dd33-44ee44ee44ee".hex().upper()
                                     if c.isdigit())


def test_switch_on_is_soft_deleted_is_entras_default_active_mapping():
    text = 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'
    assert run(text) == "True"
    assert run(text, IsSoftDeleted=True) == "False"
    assert run('Not([IsSoftDeleted])') is True


EDGES = [
    # Documented null and edge behaviour.
    ("IsNull([mail])", True),
    ("IsNullOrEmpty([displayName])", True),
    ("IsPresent([displayName])", False),
    ("IsPresent([givenName])", True),
    ('Left([mail], 3)', ""),
    ('Left("John", 0)', ""),
    ('Left("John", -1)', "John"),
    ('Left("Jo", 5)', "Jo"),
    ('Word([mail], 1, " ")', ""),
    ('Word("a b", 0, " ")', ""),
    ('Word("a b", 3, " ")', ""),
    ('Coalesce([mail], [mail])', None),
    ('Coalesce([mail], [mail], "fallback")', "fallback"),
    ('Switch([mail], "Default Value", "true", "1", "", "0")', "0"),
    ('Switch([department], "other", "Legal", "L")', "other"),
    ('Switch([department], , "Legal", "L")', None),
    ("IgnoreFlowIfNullOrEmpty([displayName])", IGNORE),
    ("IgnoreFlowIfNullOrEmpty([mail])", IGNORE),
    ('IgnoreFlowIfNullOrEmpty(Switch([state], "", "NSW", "Dr."))', IGNORE),
    ("IgnoreFlowIfNullOrEmpty([department])", "Sales"),
    # IIF cannot test a null or empty attribute: Microsoft lists these as unsupported; nothing flows.
    ('IIF([mail]="","Other",[mail])', None),
    ('IIF(IsPresent([mail]),[mail],"Other")', None),
    ("Append([mail], \".test\")", None),
    ('Join(" ", [mail], [givenName])', "John"),
    ("Count([proxyAddresses])", 3),
    ("Count([mail])", 0),
    ("RemoveDuplicates([proxyAddresses])", ["SMTP:a@x", "smtp:b@x"]),
    ("Item([proxyAddresses], 9)", None),
    ('Not("False")', True),
    ('Not("True")', False),
    ('CBool("0")', False),
    ('CBool([givenName] = "John")', True),
    ('CBool([givenName] <> "John")', False),
    ("CStr([IsSoftDeleted])", "False"),
    ('IsString([givenName])', True),
    ('IsString([proxyAddresses])', False),
    ("Split([mail], \",\")", None),
    ('StripSpaces("a b  c")', "abc"),
    ('ToUpper("straße")', "STRAßE"),  # .NET maps one unit at a time: the length stays
    ('InStr("abc", "z")', 0),
    ('InStr("ABC", "b", 1, vbTextCompare)', 2),
    ("SingleAppRoleAssignment([appRoleAssignments])", "basic"),
    ('SelectUniqueValue(Join(".", [givenName], [surname]), [surname])', "John.Doe"),
    ('Redact("StringToBeRedacted")', "StringToBeRedacted"),
    ('Mid("John", 3, 10)', "hn"),
    ('IIF(DateDiff("d", CDate("2021-08-18"), CDate("2021-08-31")) > 5, "False", "True")', "False"),
]


@pytest.mark.parametrize("expression, expected", EDGES)
def test_null_and_edge_behaviour(expression, expected):
    assert run(expression) == expected


def test_app_role_assignments_complex_gives_every_role_none_primary():
    roles = run("AppRoleAssignmentsComplex([appRoleAssignments])")
    assert roles == [
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "display": "Basic", "value": "basic"},
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "display": "Manager", "value": "manager"},
    ]
    assert run("AppRoleAssignmentsComplex([appRoleAssignments])", appRoleAssignments=[]) is None
    assert run("AssertiveAppRoleAssignmentsComplex([appRoleAssignments])") == roles


def test_random_functions_and_clock_follow_the_context():
    def context() -> Context:
        return Context(rng=random.Random(42), now=datetime(2021, 7, 2, 15, 33, 38, tzinfo=UTC))

    expression = parse("Join(\"|\", Guid(), RandomString(10,2,2,2,1,\"?,\"), Now())")
    first, second = evaluate(expression, USER, context()), evaluate(expression, USER, context())
    assert first == second
    guid, secret, now = first.split("|")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", guid)
    assert len(secret) == 10 and "?" not in secret and "," not in secret
    assert sum(c.isdigit() for c in secret) >= 2 and sum(c.isupper() for c in secret) >= 2
    assert sum(c.islower() for c in secret) >= 1 and sum(not c.isalnum() for c in secret) >= 2
    assert now == "7/2/2021 3:33:38 PM"
    assert evaluate(expression, USER, Context(rng=random.Random(43))) != first
    short = evaluate(parse("RandomString(6,3,0,0,3)"), USER, context())
    assert len(short) == 6 and sum(c.isdigit() for c in short) == 3 and sum(c.islower() for c in short) == 3


def test_string_literals_keep_escaped_quotes_and_backslashes():
    assert parse(r'"Company name: \"Contoso\""') == Constant('Company name: "Contoso"')
    assert run(r'Append("C:\\dir", "\"x\"")') == 'C:\\dir"x"'
    assert to_text(parse(r'Append([mail], "say \"hi\"")')) == r'Append([mail], "say \"hi\"")'


def test_parse_keeps_empty_arguments_in_their_positions():
    node = parse('Switch([IsSoftDeleted], , "False", "True", "True", "False")')
    assert node == Function("Switch", (Attribute("IsSoftDeleted"), None, Constant("False"), Constant("True"),
                                       Constant("True"), Constant("False")))
    assert to_text(node) == 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'
    replace = parse('Replace([mail], "@contoso.com", , ,"", ,)')
    assert replace.arguments == (Attribute("mail"), Constant("@contoso.com"), None, None, Constant(""), None, None)


def test_a_bare_name_is_a_direct_mapping_and_comparisons_parse():
    assert parse("userPrincipalName") == Attribute("userPrincipalName")
    assert parse('IIF([country]="USA", "a", "b")').arguments[0] == Comparison(
        "=", Attribute("country"), Constant("USA"))
    assert parse("Guid()") == Function("Guid", ())


def test_tree_form_from_an_export_matches_the_string_form():
    # The shape Microsoft Graph documents for attributeMappingSource, including the older parameter names
    # (Find, Replacement) and the empty positions an export leaves out.
    tree = {"expression": 'Replace([preferredLanguage], "-", , , "_", , )', "name": "Replace", "type": "Function",
            "parameters": [
                {"key": "source", "value": {"name": "preferredLanguage", "type": "Attribute", "parameters": []}},
                {"key": "Find", "value": {"name": "-", "type": "Constant", "parameters": []}},
                {"key": "Replacement", "value": {"name": "_", "type": "Constant", "parameters": []}}]}
    node = from_tree(tree)
    assert node == parse('Replace([preferredLanguage], "-", , , "_")')
    assert run(to_text(node), preferredLanguage="en-US") == "en_US"
    mid = {"name": "Mid", "type": "Function", "parameters": [
        {"key": "source", "value": {"name": "userPrincipalName", "type": "Attribute"}},
        {"key": "start", "value": {"name": "1", "type": "Constant"}},
        {"key": "length", "value": {"name": "8", "type": "Constant"}}]}
    assert run(to_text(from_tree(mid))) == "John.Doe"
    switch = {"name": "Switch", "type": "Function", "parameters": [
        {"key": "source", "value": {"name": "IsSoftDeleted", "type": "Attribute"}},
        {"key": "defaultValue", "value": {"name": "", "type": "Constant"}},
        {"key": "key", "value": {"name": "False", "type": "Constant"}},
        {"key": "value", "value": {"name": "True", "type": "Constant"}}]}
    assert evaluate(from_tree(switch), USER) == "True"


@pytest.mark.parametrize("tree, message", [
    ({"name": "x", "type": "Variable"}, "source.type: 'Variable' is not Attribute, Constant or Function"),
    ({"type": "Attribute"}, "source.name: expected a string"),
    ({"name": "Not", "type": "Function", "parameters": [{"key": "source"}]}, "source.parameters[0]: expected"),
    ([], "source: expected an object"),
])
def test_malformed_trees_name_the_json_path(tree, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        from_tree(tree)


@pytest.mark.parametrize("expression, message", [
    ("Frobnicate([mail])", "Frobnicate: unknown function"),
    ("toLower([mail])", "toLower: unknown function (names are case-sensitive: ToLower)"),
    ("Mid([mail], 1)", "Mid: takes 3 argument(s) Mid(source, start, length), got 2"),
    ('Switch([mail], "d", "k")', "Switch: takes 4 or more argument(s)"),
    ('Switch([mail], "d", "k", "v", "x")', "Switch: keys and values come in pairs"),
    ("Join(\" \", [nickname])", "Join: unknown source attribute [nickname]"),
    ("[nickname]", "unknown source attribute [nickname]"),
    ("Append(, \"x\")", "Append: argument 1 (source) is required"),
    ("ToLower(SelectUniqueValue([mail], [mail]))", "SelectUniqueValue: must be the whole expression"),
])
def test_check_names_the_function_and_the_problem(expression, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        check(parse(expression), USER)


@pytest.mark.parametrize("text", ['Join(" ", [a]', 'Join(" " [a])', "Join(\" \", [a]))", '"unterminated', "", "Not(#)"])
def test_syntax_errors_are_one_line(text):
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("expression, message", [
    ('CDate("not a date")', "CDate: 'not a date' is not a date"),
    ('DateAdd("fortnight", 1, Now())', "DateAdd: interval 'fortnight'"),
    ('Mid("abc", "x", 1)', "Mid: start must be a number"),
    ('FormatDateTime("2015", , "yyyyMMdd", "yyyy")', "FormatDateTime: '2015' does not have the input format"),
    ("RandomString(3,2,2,0,0)", "RandomString: Length 3"),
    ('Item([proxyAddresses], 0)', "Item: index 0"),
])
def test_evaluation_errors_name_the_function(expression, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        run(expression)


def test_every_function_of_the_reference_is_implemented():
    documented = ("Append", "AppRoleAssignmentsComplex", "BitAnd", "CBool", "CDate", "Coalesce", "ConvertToBase64",
                  "ConvertToUTF8Hex", "Count", "CStr", "DateAdd", "DateDiff", "DateFromNum", "FormatDateTime",
                  "Guid", "IgnoreFlowIfNullOrEmpty", "IIF", "InStr", "IsNull", "IsNullOrEmpty", "IsPresent",
                  "IsString", "Item", "Join", "Left", "Mid", "NormalizeDiacritics", "Not", "Now", "NumFromDate",
                  "PCase", "RandomString", "Redact", "RemoveDuplicates", "Replace", "SelectUniqueValue",
                  "SingleAppRoleAssignment", "Split", "StripSpaces", "Switch", "ToLower", "ToUpper", "Word")
    assert sorted(set(documented) - set(FUNCTIONS)) == []
    # ... and each one is exercised by a row above (the random ones and the role lists by their own tests).
    exercised = {name for text, _ in DOCUMENTED + EDGES for name in functions(parse(text))}
    own_tests = {"AppRoleAssignmentsComplex", "AssertiveAppRoleAssignmentsComplex", "Guid", "RandomString", "Now"}
    assert sorted(set(FUNCTIONS) - exercised - own_tests) == []


def test_nesting_deeper_than_the_limit_is_one_clear_error():
    assert evaluate(parse("ToLower(" * 100 + '"A"' + ")" * 100), {}) == "a"
    with pytest.raises(ExpressionError, match="nested deeper than 100 functions"):
        parse("ToLower(" * 400 + '"A"' + ")" * 400)


@pytest.mark.parametrize("expression, expected", [
    ('ToUpper("Straße")', "STRAßE"),  # .NET's simple case mapping keeps the length; Python's full one gives STRASSE
    ('ToUpper("ﬁle")', "ﬁLE"),
    ('ToLower("TITLE", "tr-TR")', "tıtle"),
    ('ToUpper("title", "tr-TR")', "TİTLE"),
    ('ToLower("İZMİR", "tr-TR")', "izmir"),
    ('ToUpper("ılık", "az-Latn-AZ")', "ILIK"),
    ('ToLower("TITLE", "de-DE")', "title"),
    ('ToUpper("title", "en-US")', "TITLE"),
    ('ToUpper("straße", "de-DE")', "STRAßE"),
    # Invariant (no culture, or any other): the dotted capital and the dotless small i keep their case.
    ('ToLower("İZMİR")', "İzmİr"),
    ('ToUpper("ılık")', "ıLıK"),
    ('ToLower("ÀÉÎ", "fr-FR")', "àéî"),
])
def test_to_lower_and_to_upper_follow_dotnet_cultures(expression, expected):
    assert run(expression) == expected


def test_a_malformed_culture_name_is_refused():
    with pytest.raises(ExpressionError, match="ToLower: culture 'tr_TR!' is not a culture name"):
        run('ToLower("A", "tr_TR!")')


AT_TWO = '"2015-01-23T10:53:47+02:00", "yyyy-MM-ddTHH:mm:sszzz"'
NO_ZONE = '"2015-01-23T10:53:47", "yyyy-MM-ddTHH:mm:ss"'


@pytest.mark.parametrize("styles, source, expected", [
    # An offset moves the value to the service's local time (UTC); the Kind decides what K writes.
    ("", AT_TWO, "2015-01-23 08:53 +00:00"),
    ('"None"', AT_TWO, "2015-01-23 08:53 +00:00"),
    ('"AdjustToUniversal"', AT_TWO, "2015-01-23 08:53 Z"),
    ('"DateTimeStyles.AdjustToUniversal"', AT_TWO, "2015-01-23 08:53 Z"),
    ("16", AT_TWO, "2015-01-23 08:53 Z"),
    ("", NO_ZONE, "2015-01-23 10:53 "),
    ('"AdjustToUniversal"', NO_ZONE, "2015-01-23 10:53 "),  # nothing says which zone: nothing to adjust
    ('"AssumeUniversal"', NO_ZONE, "2015-01-23 10:53 +00:00"),
    ('"AssumeUniversal, AdjustToUniversal"', NO_ZONE, "2015-01-23 10:53 Z"),
    ('"AssumeLocal|AdjustToUniversal"', NO_ZONE, "2015-01-23 10:53 Z"),
    ('"RoundtripKind"', '"2015-01-23T10:53:47Z", "yyyy-MM-ddTHH:mm:ssK"', "2015-01-23 10:53 Z"),
    ('"None"', '"2015-01-23T10:53:47Z", "yyyy-MM-ddTHH:mm:ssK"', "2015-01-23 10:53 +00:00"),
    ('"AllowWhiteSpaces"', '" 2015-01-23T10:53:47 ", "yyyy-MM-ddTHH:mm:ss"', "2015-01-23 10:53 "),
])
def test_format_date_time_applies_its_date_time_styles(styles, source, expected):
    assert run(f'FormatDateTime({source.split(", ")[0]}, {styles}, {source.split(", ")[1]}, "yyyy-MM-dd HH:mm K")') \
        == expected


@pytest.mark.parametrize("styles, message", [
    ('"AdjustToUtc"', "'AdjustToUtc' is not a DateTimeStyles value"),
    ('"AssumeLocal, AssumeUniversal"', "combines styles .NET refuses together"),
    ('"None"', "does not have the input format"),  # leading white space needs AllowLeadingWhite
])
def test_format_date_time_refuses_styles_dotnet_refuses(styles, message):
    with pytest.raises(ExpressionError, match=message):
        run(f'FormatDateTime(" 20150123", {styles}, "yyyyMMdd", "yyyy-MM-dd")')


def _iif(condition: dict | None, expression: str | None = None) -> dict:
    parameters = ([{"key": "condition", "value": condition}] if condition else []) + [
        {"key": "valueIfTrue", "value": {"type": "Constant", "name": "US"}},
        {"key": "valueIfFalse", "value": {"type": "Constant", "name": "elsewhere"}}]
    tree = {"type": "Function", "name": "IIF", "parameters": parameters}
    return tree | ({"expression": expression} if expression else {})


CONSTANT_CONDITION = {"type": "Constant", "name": '[country]="USA"'}


@pytest.mark.parametrize("tree", [
    # The comparison as a Constant's text (how Graph's tree holds an operator it has no node for).
    _iif(CONSTANT_CONDITION),
    # ... as an Attribute's name, with and without the brackets around the attribute.
    _iif({"type": "Attribute", "name": 'country = "USA"'}),
    _iif({"type": "Attribute", "name": '[country]="USA"'}),
    # CBool's argument in the same shapes (the reference's other function taking a comparison).
    {"type": "Function", "name": "IIF", "parameters": [
        {"key": "condition", "value": {"type": "Function", "name": "CBool", "parameters": [
            {"key": "expression", "value": CONSTANT_CONDITION}]}},
        {"key": "valueIfTrue", "value": {"type": "Constant", "name": "US"}},
        {"key": "valueIfFalse", "value": {"type": "Constant", "name": "elsewhere"}}]},
])
def test_iif_reads_its_comparison_from_each_tree_shape(tree):
    node = from_tree(tree)
    assert evaluate(node, USER) == "US"
    assert evaluate(node, {**USER, "country": "DE"}) == "elsewhere"
    assert "country" in attributes(node)


def test_iif_takes_the_comparison_from_the_string_when_the_tree_has_none(tmp_path):
    from scim_conformance.tenant_import import _source

    # The tree left the condition out (or holds it where it is not read); the expression string has it.
    tree = _iif({"type": "Constant", "name": "True"}, expression='IIF([country]="USA", "US", "elsewhere")')
    node = _source(tree, "source")
    assert evaluate(node, {**USER, "country": "DE"}) == "elsewhere"
    tree = _iif(None, expression='IIF([country]="USA", "US", "elsewhere")')
    assert evaluate(_source(tree, "source"), {**USER, "country": "DE"}) == "elsewhere"
    # A tree whose condition is a function agrees with its string: the tree is kept.
    tree = _iif({"type": "Function", "name": "IsPresent", "parameters": [
        {"key": "expression", "value": {"type": "Attribute", "name": "mail"}}]},
        expression='IIF(IsPresent([mail]), "US", "elsewhere")')
    assert to_text(_source(tree, "source")) == 'IIF(IsPresent([mail]), "US", "elsewhere")'


@pytest.mark.parametrize("expression", [
    'DateAdd("d", 99999999, CDate("2020-01-01"))',
    'DateFromNum("999999999999999999999999")',
    'CDate("9999-12-31T23:59:59-05:00")',
    'FormatDateTime("0001-01-01T00:00:00+01:00", , "yyyy-MM-ddTHH:mm:sszzz", "yyyy")',
])
def test_a_date_out_of_range_is_an_expression_error_naming_the_function(expression):
    with pytest.raises(ExpressionError, match=expression.split("(")[0] + ": "):
        run(expression)

// SPDX-License-Identifier: GPL-3.0-or-later
// The provisioning API's input rules, one test per rule, on plain structs.
#include "api/validate.hpp"

#include <gtest/gtest.h>

#include <string>

namespace salon::api {
namespace {

using muc::Affiliation;

Rules default_rules(std::size_t max_nick = 64) {
  return make_rules({{"client", "member"}, {"designer", "member"}, {"staff", "owner"}}, max_nick)
      .rules;
}

MemberInput member(std::string jid, std::string name, std::string role,
                   std::optional<std::string> email = std::nullopt) {
  return MemberInput{std::move(jid), std::move(name), std::move(email), std::move(role)};
}

ProjectInput valid_input() {
  ProjectInput p;
  p.name = "Kitchen redesign";
  p.description = "Two rooms,\nthree walls";
  p.members =
      std::vector<MemberInput>{member("alice@localhost", "Alice", "client", "alice@example.com"),
                               member("bob@localhost", "Bob (designer)", "designer"),
                               member("carol@localhost", "Carol", "staff")};
  return p;
}

// The error for `input`, failing the test when it validates.
FieldError error_of(const ProjectInput& input, const Rules& rules = default_rules(),
                    std::string_view id = "p-1") {
  auto r = validate_project(id, input, rules);
  if (auto* e = std::get_if<FieldError>(&r)) return *e;
  ADD_FAILURE() << "expected an error, the input was accepted";
  return {};
}

TEST(ProjectId, AcceptsTheDocumentedAlphabet) {
  for (const char* id : {"p", "0", "project-42", "a.b_c-d", "9f1c2d3e-aaaa-bbbb-cccc-0123456789ab",
                         "x123456789012345678901234567890123456789012345678901234567890123"}) {
    EXPECT_EQ(validate_project_id(id), std::nullopt) << id;
  }
}

TEST(ProjectId, RejectsEmpty) {
  auto e = validate_project_id("");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "id");
}

TEST(ProjectId, RejectsLongerThan64Bytes) {
  EXPECT_EQ(validate_project_id(std::string(64, 'a')), std::nullopt);
  auto e = validate_project_id(std::string(65, 'a'));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "id");
  EXPECT_NE(e->detail.find("64"), std::string::npos);
}

TEST(ProjectId, RejectsCharactersOutsideTheAlphabet) {
  // Upper case would be folded by nodeprep, '@' '/' ' ' are not localpart characters, and
  // non-ASCII is refused on purpose (ids are typed and read by people, and appear in URLs).
  for (const char* id : {"Project", "a@b", "a/b", "a b", "caf\xc3\xa9", "a:b", "a\"b", "a+b"}) {
    auto e = validate_project_id(id);
    ASSERT_TRUE(e) << id;
    EXPECT_EQ(e->field, "id") << id;
  }
}

TEST(ProjectId, MustStartWithALetterOrDigit) {
  for (const char* id : {"-a", ".a", "_a"}) {
    auto e = validate_project_id(id);
    ASSERT_TRUE(e) << id;
    EXPECT_NE(e->detail.find("start"), std::string::npos) << id;
  }
}

TEST(Project, ValidInputBecomesASpec) {
  auto r = validate_project("p-1", valid_input(), default_rules());
  ASSERT_TRUE(std::holds_alternative<muc::ProjectSpec>(r)) << std::get<FieldError>(r).detail;
  const auto& spec = std::get<muc::ProjectSpec>(r);
  EXPECT_EQ(spec.local, "p-1");
  EXPECT_EQ(spec.name, "Kitchen redesign");
  EXPECT_EQ(spec.description, "Two rooms,\nthree walls");
  ASSERT_EQ(spec.members.size(), 3u);
  EXPECT_EQ(spec.members[0].jid, "alice@localhost");
  EXPECT_EQ(spec.members[0].nick, "Alice");
  EXPECT_EQ(spec.members[0].email, "alice@example.com");
  EXPECT_EQ(spec.members[0].role, "client");
  EXPECT_EQ(spec.members[0].affiliation, Affiliation::member);
  EXPECT_EQ(spec.members[1].affiliation, Affiliation::member);
  EXPECT_EQ(spec.members[1].email, "");
  EXPECT_EQ(spec.members[2].affiliation, Affiliation::owner);
}

TEST(Project, JidsAreNormalised) {
  auto in = valid_input();
  (*in.members)[0].jid = "Alice@LocalHost";
  auto r = validate_project("p", in, default_rules());
  ASSERT_TRUE(std::holds_alternative<muc::ProjectSpec>(r));
  EXPECT_EQ(std::get<muc::ProjectSpec>(r).members[0].jid, "alice@localhost");
}

TEST(Project, NoMembersIsAllowed) {
  auto in = valid_input();
  in.members->clear();
  EXPECT_TRUE(std::holds_alternative<muc::ProjectSpec>(validate_project("p", in, default_rules())));
}

TEST(Project, DescriptionIsOptional) {
  auto in = valid_input();
  in.description.reset();
  auto r = validate_project("p", in, default_rules());
  ASSERT_TRUE(std::holds_alternative<muc::ProjectSpec>(r));
  EXPECT_EQ(std::get<muc::ProjectSpec>(r).description, "");
}

TEST(Project, InvalidIdIsReportedFirst) {
  auto in = valid_input();
  in.name.reset();
  EXPECT_EQ(error_of(in, default_rules(), "Bad Id").field, "id");
}

TEST(Project, NameIsRequired) {
  auto in = valid_input();
  in.name.reset();
  EXPECT_EQ(error_of(in).field, "name");
}

TEST(Project, NameMustNotBeEmptyOrBlank) {
  for (const char* name : {"", "   ", "\t\n"}) {
    auto in = valid_input();
    in.name = name;
    EXPECT_EQ(error_of(in).field, "name") << '"' << name << '"';
  }
}

TEST(Project, NameLengthCountsCharactersNotBytes) {
  auto in = valid_input();
  std::string name;
  for (std::size_t i = 0; i < kMaxProjectNameChars; ++i)
    name += "\xc3\xa9";  // é: 2 bytes
  in.name = name;
  EXPECT_TRUE(std::holds_alternative<muc::ProjectSpec>(validate_project("p", in, default_rules())));
  in.name = name + "x";
  EXPECT_EQ(error_of(in).field, "name");
}

TEST(Project, NameMustNotContainControlCharacters) {
  auto in = valid_input();
  in.name = "two\nlines";
  EXPECT_EQ(error_of(in).field, "name");
}

TEST(Project, DescriptionTooLong) {
  auto in = valid_input();
  in.description = std::string(kMaxDescriptionChars, 'd');
  EXPECT_TRUE(std::holds_alternative<muc::ProjectSpec>(validate_project("p", in, default_rules())));
  in.description = std::string(kMaxDescriptionChars + 1, 'd');
  EXPECT_EQ(error_of(in).field, "description");
}

TEST(Project, DescriptionRejectsControlCharactersButKeepsLineBreaks) {
  auto in = valid_input();
  in.description = std::string("bell\x07");
  EXPECT_EQ(error_of(in).field, "description");
}

TEST(Project, MembersAreRequired) {
  auto in = valid_input();
  in.members.reset();
  EXPECT_EQ(error_of(in).field, "members");
}

TEST(Project, TooManyMembers) {
  auto in = valid_input();
  in.members->clear();
  for (std::size_t i = 0; i <= kMaxMembers; ++i)
    in.members->push_back(
        member("u" + std::to_string(i) + "@localhost", "U" + std::to_string(i), "client"));
  EXPECT_EQ(error_of(in).field, "members");
}

TEST(Member, JidIsRequired) {
  auto in = valid_input();
  (*in.members)[1].jid.reset();
  EXPECT_EQ(error_of(in).field, "members[1].jid");
  (*in.members)[1].jid = "";
  EXPECT_EQ(error_of(in).field, "members[1].jid");
}

TEST(Member, InvalidJid) {
  for (const char* jid : {"@localhost", "a@", "a@b@c", "a b@localhost", "alice@local host",
                          "alice@localhost/", "alice@exa_mple.com", "alice@[::1", "a@b\"c"}) {
    auto in = valid_input();
    (*in.members)[1].jid = jid;
    const auto e = error_of(in);
    EXPECT_EQ(e.field, "members[1].jid") << jid;
  }
}

TEST(Member, IpLiteralAndIdnDomainsAreAccepted) {
  for (const char* jid : {"alice@[::1]", "alice@127.0.0.1",
                          "alice@b\xc3\xbc"
                          "cher.example"}) {
    auto in = valid_input();
    (*in.members)[1].jid = jid;
    EXPECT_TRUE(
        std::holds_alternative<muc::ProjectSpec>(validate_project("p", in, default_rules())))
        << jid;
  }
}

TEST(Member, JidMustBeBare) {
  auto in = valid_input();
  (*in.members)[2].jid = "carol@localhost/phone";
  const auto e = error_of(in);
  EXPECT_EQ(e.field, "members[2].jid");
  EXPECT_NE(e.detail.find("bare"), std::string::npos) << e.detail;
}

TEST(Member, JidMustHaveALocalpart) {
  auto in = valid_input();
  (*in.members)[0].jid = "localhost";
  const auto e = error_of(in);
  EXPECT_EQ(e.field, "members[0].jid");
  EXPECT_NE(e.detail.find("user@domain"), std::string::npos) << e.detail;
}

TEST(Member, DuplicateJidAfterNormalisation) {
  auto in = valid_input();
  (*in.members)[2].jid = "ALICE@localhost";
  const auto e = error_of(in);
  EXPECT_EQ(e.field, "members[2].jid");
  EXPECT_NE(e.detail.find("members[0]"), std::string::npos) << e.detail;
}

TEST(Member, NameIsRequired) {
  auto in = valid_input();
  (*in.members)[0].name.reset();
  EXPECT_EQ(error_of(in).field, "members[0].name");
  (*in.members)[0].name = "  ";
  EXPECT_EQ(error_of(in).field, "members[0].name");
}

TEST(Member, NameLongerThanTheNickLimit) {
  auto in = valid_input();
  (*in.members)[1].name = std::string(10, 'n');
  EXPECT_TRUE(
      std::holds_alternative<muc::ProjectSpec>(validate_project("p", in, default_rules(10))));
  (*in.members)[1].name = std::string(11, 'n');
  EXPECT_EQ(error_of(in, default_rules(10)).field, "members[1].name");
}

TEST(Member, NameMustBeAValidNick) {
  auto in = valid_input();
  (*in.members)[1].name = std::string("tab\there");  // control characters fail resourceprep
  EXPECT_EQ(error_of(in).field, "members[1].name");
}

TEST(Member, DuplicateNameIgnoringCase) {
  auto in = valid_input();
  (*in.members)[2].name = "alice";
  auto e = error_of(in);
  EXPECT_EQ(e.field, "members[2].name");
  EXPECT_NE(e.detail.find("members[0]"), std::string::npos) << e.detail;
  (*in.members)[2].name = "\xc3\x89va";  // Éva
  (*in.members)[1].name = "\xc3\xa9va";  // éva
  EXPECT_EQ(error_of(in).field, "members[2].name");
}

TEST(Member, RoleIsRequired) {
  auto in = valid_input();
  (*in.members)[1].role.reset();
  EXPECT_EQ(error_of(in).field, "members[1].role");
}

TEST(Member, UnknownRole) {
  auto in = valid_input();
  (*in.members)[1].role = "Designer";  // roles are case-sensitive config keys
  const auto e = error_of(in);
  EXPECT_EQ(e.field, "members[1].role");
  EXPECT_NE(e.detail.find("client, designer, staff"), std::string::npos) << e.detail;
}

TEST(Member, RoleMappingComesFromConfig) {
  auto rules = make_rules({{"client", "member"}, {"pm", "admin"}}, 64).rules;
  auto in = valid_input();
  in.members = std::vector<MemberInput>{member("a@localhost", "A", "pm")};
  auto r = validate_project("p", in, rules);
  ASSERT_TRUE(std::holds_alternative<muc::ProjectSpec>(r));
  EXPECT_EQ(std::get<muc::ProjectSpec>(r).members[0].affiliation, Affiliation::admin);
  in.members = std::vector<MemberInput>{member("a@localhost", "A", "staff")};
  EXPECT_EQ(error_of(in, rules).field, "members[0].role");
}

TEST(Member, InvalidEmail) {
  for (const char* email : {"nobody", "@example.com", "a@", "a b@example.com", "a@exa\tmple.com"}) {
    auto in = valid_input();
    (*in.members)[0].email = email;
    EXPECT_EQ(error_of(in).field, "members[0].email") << email;
  }
}

TEST(Member, EmailTooLong) {
  auto in = valid_input();
  (*in.members)[0].email = std::string(250, 'a') + "@b.cd";
  EXPECT_EQ(error_of(in).field, "members[0].email");
}

TEST(Member, EmptyEmailMeansNone) {
  auto in = valid_input();
  (*in.members)[0].email = "";
  auto r = validate_project("p", in, default_rules());
  ASSERT_TRUE(std::holds_alternative<muc::ProjectSpec>(r));
  EXPECT_EQ(std::get<muc::ProjectSpec>(r).members[0].email, "");
}

TEST(Member, FirstBadMemberIsTheOneNamed) {
  auto in = valid_input();
  (*in.members)[1].role = "nope";
  (*in.members)[2].jid = "bad@";
  EXPECT_EQ(error_of(in).field, "members[1].role");
}

TEST(Rules, OnlyMemberAdminOwnerAreAccepted) {
  auto built = make_rules({{"client", "member"},
                           {"boss", "owner"},
                           {"helper", "admin"},
                           {"banned", "outcast"},
                           {"ghost", "none"},
                           {"typo", "memebr"}},
                          64);
  EXPECT_EQ(built.rules.role_affiliations.size(), 3u);
  EXPECT_EQ(built.rejected, (std::vector<std::string>{"banned", "ghost", "typo"}));
}

}  // namespace
}  // namespace salon::api

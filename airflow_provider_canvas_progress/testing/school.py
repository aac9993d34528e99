"""The small school every simulator starts with, so example DAGs and users' tests have something to read.

Account 1 ("Simulated University", the root) has two sub-accounts; term 1 is the current term;
courses 1..100 live in account 1 (course batch updates on account 1 can touch any of them), the
first three with real names, SIS ids, two sections each and three assignments each; user 1 is the
admin, users 101..105 are students. Ids are fixed, so tests and docs may name them.
"""

from __future__ import annotations

from .catalog import Catalog, Term
from .identity import Identity, User

__all__ = ["ROOT_ACCOUNT_ID", "SEEDED_COURSES", "STUDENT_IDS", "seed_school"]

ROOT_ACCOUNT_ID = 1
#: ``(id, name, course_code, sis_course_id)`` of the named courses.
SEEDED_COURSES = (
    (1, "Biology 101", "BIO101", "BIO101-2026FA"),
    (2, "Chemistry 110", "CHEM110", "CHEM110-2026FA"),
    (3, "World History", "HIST200", "HIST200-2026FA"),
)
STUDENT_IDS = (101, 102, 103, 104, 105)
_STUDENTS = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Katherine Johnson", "Edsger Dijkstra")


def seed_school(catalog: Catalog, identity: Identity) -> None:
    """Fill an empty catalog and identity with the default school."""
    identity.add_user(User.named(1, "Sim Admin", login_id="sim-admin"))
    for user_id, name in zip(STUDENT_IDS, _STUDENTS, strict=True):
        identity.add_user(User.named(user_id, name))
    catalog.add_account(ROOT_ACCOUNT_ID, name="Simulated University", sis_account_id="SIMU")
    catalog.add_account(2, name="College of Science", parent_account_id=ROOT_ACCOUNT_ID, sis_account_id="SCI")
    catalog.add_account(3, name="College of Arts", parent_account_id=ROOT_ACCOUNT_ID, sis_account_id="ARTS")
    catalog.add_term(Term(1, "Fall 2026", ROOT_ACCOUNT_ID, "2026FA", "2026-08-24T00:00:00Z", "2026-12-18T00:00:00Z"))
    catalog.add_term(Term(2, "Spring 2027", ROOT_ACCOUNT_ID, "2027SP", "2027-01-11T00:00:00Z", "2027-05-07T00:00:00Z"))
    for course_id in range(1, 101):
        catalog.add_course(course_id, account_id=ROOT_ACCOUNT_ID)
    for course_id, name, code, sis_id in SEEDED_COURSES:
        catalog.add_course(course_id, account_id=ROOT_ACCOUNT_ID, name=name, course_code=code, sis_course_id=sis_id)
        for k in (1, 2):
            section_id = 1000 + course_id * 10 + k
            catalog.add_section(
                section_id, course_id=course_id, name=f"{code} Section {k}", sis_section_id=f"{sis_id}-{k}"
            )
        for k, title in enumerate(("Homework 1", "Midterm", "Final Exam"), start=1):
            catalog.add_assignment(course_id * 100 + k, course_id=course_id, name=title)
    for conversation_id in range(1, 101):
        catalog.add_conversation(conversation_id, participants=(1,))

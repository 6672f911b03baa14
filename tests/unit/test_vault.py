from maskgate.vault import PLACEHOLDER_SHAPE, Vault


def test_numbering_is_per_type_and_by_first_sight():
    vault = Vault()
    assert vault.placeholder_for("a@x.io", "EMAIL_ADDRESS") == "[[EMAIL_ADDRESS_1]]"
    assert vault.placeholder_for("Jane", "PERSON") == "[[PERSON_1]]"
    assert vault.placeholder_for("b@x.io", "EMAIL_ADDRESS") == "[[EMAIL_ADDRESS_2]]"
    assert vault.placeholder_for("a@x.io", "EMAIL_ADDRESS") == "[[EMAIL_ADDRESS_1]]"
    assert len(vault) == 3


def test_a_value_keeps_its_first_type():
    vault = Vault()
    first = vault.placeholder_for("Jordan", "PERSON")
    assert vault.placeholder_for("Jordan", "LOCATION") == first
    assert vault.lookup(first).entity_type == "PERSON"


def test_reserved_placeholders_are_skipped_and_not_ours():
    vault = Vault(reserved={"[[PERSON_1]]", "[[PERSON_3]]"})
    assert vault.placeholder_for("Ann", "PERSON") == "[[PERSON_2]]"
    assert vault.placeholder_for("Bob", "PERSON") == "[[PERSON_4]]"
    assert vault.lookup("[[PERSON_1]]") is None
    assert vault.is_reserved("[[PERSON_1]]")


def test_lookup_and_repr_do_not_show_values():
    vault = Vault()
    p = vault.placeholder_for("hunter2-secret", "PASSWORD", secret=True)
    entry = vault.lookup(p)
    assert entry.value == "hunter2-secret" and entry.secret
    assert "hunter2" not in repr(vault)


def test_placeholder_shape():
    assert PLACEHOLDER_SHAPE.fullmatch("[[EMAIL_ADDRESS_12]]").groups() == ("EMAIL_ADDRESS", "12")
    for not_ours in ("[[person_1]]", "[PERSON_1]", "[[PERSON]]", "[[_1]]"):
        assert not PLACEHOLDER_SHAPE.fullmatch(not_ours)


def test_entries_know_whether_they_are_restored():
    vault = Vault()
    kept = vault.placeholder_for("wJalrXUtnFEMI/K7MDENG", "AWS_SECRET_ACCESS_KEY", secret=True, restore=False)
    masked = vault.placeholder_for("Jane", "PERSON")
    assert not vault.lookup(kept).restore and vault.lookup(masked).restore
    assert repr(vault) == "<Vault 2 placeholders, 1 redacted>"
    assert "wJalr" not in repr(vault.lookup(kept))


def test_a_value_redacted_once_stays_redacted_under_its_first_placeholder():
    vault = Vault()
    first = vault.placeholder_for("Jane", "PERSON")
    assert vault.placeholder_for("Jane", "PERSON", restore=False) == first
    assert vault.placeholder_for("Jane", "PERSON") == first
    [entry] = vault
    assert entry == vault.lookup(first) and not entry.restore and entry.value == "Jane"


def test_the_entry_of_a_value_is_the_one_its_placeholder_looks_up():
    vault = Vault()
    entry = vault.entry_for("Jordan", "PERSON")
    assert vault.entry_for("Jordan", "LOCATION", restore=False) == vault.lookup(entry.placeholder)
    assert (entry.placeholder, entry.entity_type) == ("[[PERSON_1]]", "PERSON")
    assert not vault.lookup(entry.placeholder).restore

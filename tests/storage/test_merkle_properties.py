"""Properties of the log's Merkle tree: every honest proof verifies, every altered one is refused.

For any sequence of appended entries: every inclusion proof and every consistency proof between any two
sizes verifies; flipping any byte of an entry, a proof hash or a root, naming a wrong index, or checking
against the head of another size makes verification fail. The three ways to compute a root
(CompactRange, MerkleTree, a naive recursion written straight from the RFC's definition) agree.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from storage import merkle

props = settings(max_examples=150, deadline=None)

entries_lists = st.lists(st.binary(max_size=24), min_size=1, max_size=40)


def rfc_root(entries: list[bytes]) -> bytes:
    """MTH exactly as RFC 9162 §2.1.1 defines it, recursively: the oracle for the fast versions."""
    if not entries:
        return merkle.EMPTY_ROOT
    if len(entries) == 1:
        return merkle.leaf_hash(entries[0])
    k = 1 << ((len(entries) - 1).bit_length() - 1)
    return merkle.node_hash(rfc_root(entries[:k]), rfc_root(entries[k:]))


def flip(data: bytes, position: int, mask: int) -> bytes:
    """``data`` with one byte changed (mask is never 0, so the byte really changes)."""
    position %= len(data)
    return data[:position] + bytes([data[position] ^ mask]) + data[position + 1 :]


masks = st.integers(min_value=1, max_value=255)


@props
@given(entries_lists)
def test_every_way_of_computing_a_root_agrees_with_the_rfc(entries):
    hashes = [merkle.leaf_hash(e) for e in entries]
    tree = merkle.MerkleTree()
    compact = merkle.CompactRange()
    for size, leaf in enumerate(hashes, start=1):
        tree.append(leaf)
        compact.append(leaf)
        expected = rfc_root(entries[:size])
        assert compact.root() == expected
        assert merkle.root(hashes[:size]) == expected
    for size in range(len(entries) + 1):
        assert tree.root(size) == rfc_root(entries[:size])


@props
@given(entries_lists)
def test_every_inclusion_proof_verifies_at_every_size(entries):
    hashes = [merkle.leaf_hash(e) for e in entries]
    tree = merkle.MerkleTree(hashes)
    for size in range(1, len(hashes) + 1):
        root = tree.root(size)
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert merkle.verify_inclusion(hashes[index], index, size, proof, root)
            assert merkle.root_from_inclusion(hashes[index], index, size, proof) == root


@props
@given(entries_lists)
def test_every_consistency_proof_between_any_two_sizes_verifies(entries):
    hashes = [merkle.leaf_hash(e) for e in entries]
    tree = merkle.MerkleTree(hashes)
    roots = [tree.root(size) for size in range(len(hashes) + 1)]
    for new in range(len(hashes) + 1):
        for old in range(new + 1):
            proof = tree.consistency_proof(old, new)
            assert proof == merkle.consistency_proof(hashes, old, new)
            assert merkle.verify_consistency(old, new, roots[old], roots[new], proof)


@props
@given(entries_lists, st.data())
def test_a_changed_entry_is_no_longer_included(entries, data):
    hashes = [merkle.leaf_hash(e) for e in entries]
    tree = merkle.MerkleTree(hashes)
    index = data.draw(st.integers(0, len(entries) - 1))
    proof, root = tree.inclusion_proof(index), tree.root()
    entry = entries[index]
    changed = (
        flip(entry, data.draw(st.integers(0, 10_000)), data.draw(masks)) if entry else b"\x00"
    )  # an empty entry can only change by growing
    assert not merkle.verify_inclusion(merkle.leaf_hash(changed), index, len(entries), proof, root)
    # ... and the log holding it has another root.
    edited = [*entries[:index], changed, *entries[index + 1 :]]
    assert merkle.root([merkle.leaf_hash(e) for e in edited]) != root


@props
@given(entries_lists, st.data())
def test_a_flipped_byte_in_an_inclusion_proof_or_root_fails(entries, data):
    hashes = [merkle.leaf_hash(e) for e in entries]
    tree = merkle.MerkleTree(hashes)
    size = data.draw(st.integers(1, len(hashes)))
    index = data.draw(st.integers(0, size - 1))
    proof, root = tree.inclusion_proof(index, size), tree.root(size)
    position, mask = data.draw(st.integers(0, 31)), data.draw(masks)
    bad_root = flip(root, position, mask)
    assert not merkle.verify_inclusion(hashes[index], index, size, proof, bad_root)
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1))
        bad_proof = [*proof[:which], flip(proof[which], position, mask), *proof[which + 1 :]]
        assert not merkle.verify_inclusion(hashes[index], index, size, bad_proof, root)
        assert not merkle.verify_inclusion(hashes[index], index, size, proof[:-1], root)
    assert not merkle.verify_inclusion(hashes[index], index, size, [*proof, root], root)


@props
@given(entries_lists, st.data())
def test_a_wrong_index_fails(entries, data):
    hashes = [merkle.leaf_hash(e) for e in entries]
    tree = merkle.MerkleTree(hashes)
    size = data.draw(st.integers(1, len(hashes)))
    index = data.draw(st.integers(0, size - 1))
    proof, root = tree.inclusion_proof(index, size), tree.root(size)
    other_index = data.draw(st.integers(-2, size + 2).filter(lambda i: i != index))
    # The same entry stored at another position is truly there too: that is not a wrong index.
    if 0 <= other_index < size and hashes[other_index] == hashes[index]:
        return
    assert not merkle.verify_inclusion(hashes[index], other_index, size, proof, root)


@props
@given(entries_lists, st.data())
def test_a_proof_for_one_size_fails_against_the_head_of_another(entries, data):
    """A proof binds a size only through the root (RFC 9162): checked against another (size, root) head,
    as a forged document would have to be, it fails."""
    hashes = [merkle.leaf_hash(e) for e in [*entries, b"x", b"y", b"z"]]
    tree = merkle.MerkleTree(hashes)
    size = data.draw(st.integers(1, len(entries)))
    index = data.draw(st.integers(0, size - 1))
    proof = tree.inclusion_proof(index, size)
    other_size = data.draw(st.integers(1, len(hashes)).filter(lambda s: s != size))
    if index < other_size:
        assert not merkle.verify_inclusion(hashes[index], index, other_size, proof, tree.root(other_size))
    assert not merkle.verify_inclusion(hashes[index], index, size * 2, proof, tree.root(size))
    assert not merkle.verify_inclusion(hashes[index], index, 0, proof, tree.root(size))


@props
@given(entries_lists, st.data())
def test_a_flipped_byte_in_a_consistency_proof_or_either_root_fails(entries, data):
    hashes = [merkle.leaf_hash(e) for e in entries]
    tree = merkle.MerkleTree(hashes)
    new = data.draw(st.integers(1, len(hashes)))
    old = data.draw(st.integers(1, new))
    proof, old_root, new_root = tree.consistency_proof(old, new), tree.root(old), tree.root(new)
    position, mask = data.draw(st.integers(0, 31)), data.draw(masks)
    assert not merkle.verify_consistency(old, new, flip(old_root, position, mask), new_root, proof)
    assert not merkle.verify_consistency(old, new, old_root, flip(new_root, position, mask), proof)
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1))
        bad_proof = [*proof[:which], flip(proof[which], position, mask), *proof[which + 1 :]]
        assert not merkle.verify_consistency(old, new, old_root, new_root, bad_proof)
        assert not merkle.verify_consistency(old, new, old_root, new_root, proof[:-1])
        assert not merkle.verify_consistency(old, new, old_root, new_root, [*proof, new_root])


@props
@given(entries_lists, st.data())
def test_a_rewritten_history_is_not_consistent_with_the_old_head(entries, data):
    """An operator who edits an old entry cannot prove the new log extends the head published before."""
    hashes = [merkle.leaf_hash(e) for e in entries]
    old = data.draw(st.integers(1, len(hashes)))
    old_root = merkle.root(hashes[:old])
    index = data.draw(st.integers(0, old - 1))
    forged = list(hashes)
    forged[index] = merkle.leaf_hash(entries[index] + b"!")
    forged_tree = merkle.MerkleTree([*forged, merkle.leaf_hash(b"later")])
    new = forged_tree.size
    proof = forged_tree.consistency_proof(old, new)
    assert not merkle.verify_consistency(old, new, old_root, forged_tree.root(), proof)


@props
@given(st.lists(st.binary(max_size=8), max_size=70))
def test_a_compact_range_copy_continues_independently(entries):
    hashes = [merkle.leaf_hash(e) for e in entries]
    compact = merkle.CompactRange()
    compact.extend(hashes)
    copy = compact.copy()
    copy.append(merkle.leaf_hash(b"more"))
    assert compact.root() == merkle.root(hashes)
    assert copy.root() == merkle.root([*hashes, merkle.leaf_hash(b"more")])
    # The compact range holds one hash for each 1 bit of its size: O(log n), never the whole log.
    assert len(compact._hashes) == bin(len(hashes)).count("1")

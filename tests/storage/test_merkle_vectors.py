"""Our Merkle hashing against the reference implementation's published data, so the log interoperates.

The vectors are the test data of transparency-dev/merkle (the Go reference for RFC 6962 logs):
rfc6962/rfc6962_test.go (leaf and node hashes), testonly/constants.go (eight leaves, every root and
node), proof/verify_test.go and testonly/reference_test.go (inclusion and consistency proofs), and
testonly/vectors_test.go (the rolling digests of the "Subtree Test Vectors" appendix of
draft-ietf-plants-merkle-tree-certs, over trees of up to 130 leaves). Only the data is copied.
"""

from __future__ import annotations

import hashlib

import pytest

from storage import merkle


def h(text: str) -> bytes:
    return bytes.fromhex(text)


EMPTY_ROOT = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")

LEAF_INPUTS = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]

# Every complete subtree of the eight-leaf tree: level (0 = leaves), then left to right.
NODE_HASHES = [
    [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")],
]

# The root of the tree of the first n leaves, n = 0 .. 8.
ROOTS = [
    EMPTY_ROOT,
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

# (leaf index, tree size, audit path): from reference_test.go and verify_test.go (there 1-based).
INCLUSION_PROOFS = [
    (0, 1, []),
    (0, 2, [h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7")]),
    (1, 2, [h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")]),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

# (old size, new size, proof): verify_test.go's consistencyProofs.
CONSISTENCY_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

# draft-ietf-plants-merkle-tree-certs, "Subtree Test Vectors": leaves d[i] = the single byte i, i < 130.
SUBTREE_VECTOR_LEAVES = 130
SUBTREE_HASH_DIGEST = "94a95384a8c69acea9b50d035a58285b3a777cb7a724005faa5e1f1e1190007f"
SUBTREE_INCLUSION_DIGEST = "ac2a8f989e44d99e399db448050ff5f19757df53cfb716aa81015d3955d8163f"

LEAF_HASHES = [merkle.leaf_hash(entry) for entry in LEAF_INPUTS]


def test_leaf_and_node_hashes_are_rfc6962s():
    assert merkle.EMPTY_ROOT == EMPTY_ROOT
    assert merkle.root([]) == EMPTY_ROOT
    # The empty tree and the tree of one empty entry differ (the 0x00 prefix).
    assert merkle.leaf_hash(b"") == h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert merkle.leaf_hash(b"L123456") == h(
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert merkle.node_hash(b"N123", b"N456") == h(
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


def test_every_node_of_the_reference_tree():
    assert [merkle.leaf_hash(entry) for entry in LEAF_INPUTS] == NODE_HASHES[0]
    tree = merkle.MerkleTree(LEAF_HASHES)
    for level, nodes in enumerate(NODE_HASHES):
        for index, expected in enumerate(nodes):
            width = 1 << level
            assert merkle.root(LEAF_HASHES[index * width : (index + 1) * width]) == expected
        # The leftmost complete subtree of each level is the root of the tree of that many leaves.
        assert tree.root(1 << level) == nodes[0]


@pytest.mark.parametrize("size", range(9))
def test_roots_of_every_prefix(size):
    assert merkle.root(LEAF_HASHES[:size]) == ROOTS[size]
    assert merkle.MerkleTree(LEAF_HASHES).root(size) == ROOTS[size]
    compact = merkle.CompactRange()
    compact.extend(LEAF_HASHES[:size])
    assert (compact.size, compact.root()) == (size, ROOTS[size])


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_inclusion_proofs_match_and_verify(index, size, proof):
    assert merkle.inclusion_proof(LEAF_HASHES, index, size) == proof
    assert merkle.MerkleTree(LEAF_HASHES).inclusion_proof(index, size) == proof
    assert merkle.verify_inclusion(LEAF_HASHES[index], index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("index", "size", "proof"), [p for p in INCLUSION_PROOFS if p[2]])
def test_the_reference_corruptions_of_inclusion_proofs_fail(index, size, proof):
    """The probes of verify_test.go's corruptInclusionProof, each of which must be refused."""
    leaf, good_root = LEAF_HASHES[index], ROOTS[size]
    probes = [
        (index - 1, size, good_root, leaf, proof),
        (index + 1, size, good_root, leaf, proof),
        (index ^ 2, size, good_root, leaf, proof),
        (index, size * 2, good_root, leaf, proof),
        (index, size // 2, good_root, leaf, proof),
        (index, size, good_root, b"WrongLeaf", proof),
        (index, size, EMPTY_ROOT, leaf, proof),
        (index, size, SOME_HASH, leaf, proof),
        (index, size, good_root, leaf, [*proof, b""]),
        (index, size, good_root, leaf, [*proof, good_root]),
        (index, size, good_root, leaf, [b"", *proof]),
        (index, size, good_root, leaf, [good_root, *proof]),
        (index, size, good_root, leaf, proof[:-1]),
    ]
    for position in range(len(proof)):
        flipped = [bytes(p) for p in proof]
        flipped[position] = bytes([flipped[position][0] ^ 8]) + flipped[position][1:]
        probes.append((index, size, good_root, leaf, flipped))
    if len(proof) > 1:
        probes.append((index, size, good_root, leaf, [proof[0], SOME_HASH, *proof[1:]]))
    for probe_index, probe_size, probe_root, probe_leaf, probe_proof in probes:
        assert not merkle.verify_inclusion(probe_leaf, probe_index, probe_size, probe_proof, probe_root)


def test_the_one_entry_tree_and_impossible_positions():
    data_hash = merkle.leaf_hash(b"data")
    assert merkle.verify_inclusion(data_hash, 0, 1, [], data_hash)
    assert not merkle.verify_inclusion(b"", 0, 1, [], data_hash)
    assert not merkle.verify_inclusion(data_hash, 0, 1, [], b"")
    for index, size in [(0, 0), (0, 1), (1, 0), (2, 1)]:
        assert not merkle.verify_inclusion(SOME_HASH, index, size, [], b"")
        assert not merkle.verify_inclusion(b"", index, size, [], EMPTY_ROOT)
        assert not merkle.verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_PROOFS)
def test_consistency_proofs_match_and_verify(old, new, proof):
    assert merkle.consistency_proof(LEAF_HASHES, old, new) == proof
    assert merkle.verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


@pytest.mark.parametrize(("old", "new", "proof"), [p for p in CONSISTENCY_PROOFS if p[2]])
def test_the_reference_corruptions_of_consistency_proofs_fail(old, new, proof):
    """The probes of verify_test.go's corruptConsistencyProof, each of which must be refused."""
    root1, root2 = ROOTS[old], ROOTS[new]
    probes = [
        (old - 1, new, root1, root2, proof),
        (old + 1, new, root1, root2, proof),
        (old ^ 2, new, root1, root2, proof),
        (old, new * 2, root1, root2, proof),
        (old, new // 2, root1, root2, proof),
        (old, new, b"WrongRoot", root2, proof),
        (old, new, root1, b"WrongRoot", proof),
        (old, new, root2, root1, proof),
        (old, new, root1, root2, []),
        (old, new, root1, root2, [*proof, b""]),
        (old, new, root1, root2, [*proof, root1]),
        (old, new, root1, root2, [*proof, root2]),
        (old, new, root1, root2, [b"", *proof]),
        (old, new, root1, root2, [root1, *proof]),
        (old, new, root1, root2, [root2, *proof]),
        (old, new, root1, root2, [proof[0], *proof]),
        (old, new, root1, root2, proof[:-1]),
    ]
    for position in range(len(proof)):
        flipped = [bytes(p) for p in proof]
        flipped[position] = bytes([flipped[position][0] ^ 16]) + flipped[position][1:]
        probes.append((old, new, root1, root2, flipped))
    for size1, size2, first, second, probe_proof in probes:
        assert not merkle.verify_consistency(size1, size2, first, second, probe_proof)


def test_the_reference_edge_cases_of_consistency():
    """verify_test.go's TestVerifyConsistency table: sizes always consistent, time travel, bad proofs."""
    root1, root2 = b"don't care 1", b"don't care 2"
    # The reference does not check hash lengths here; we do, so its "don't care" roots are real hashes.
    root1, root2 = hashlib.sha256(root1).digest(), hashlib.sha256(root2).digest()
    cases = [
        (0, 0, root1, root2, [], False),
        (1, 1, root1, root2, [], False),
        (0, 0, root1, root1, [], True),
        (0, 1, root1, root2, [], True),
        (1, 1, root2, root2, [], True),
        (1, 0, root1, root2, [], False),
        (2, 1, root1, root2, [], False),
        (1, 2, root1, root2, [], False),
        (0, 0, EMPTY_ROOT, root2, [], False),
        (1, 1, EMPTY_ROOT, root2, [], False),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
    ]
    for size1, size2, first, second, proof, valid in cases:
        assert merkle.verify_consistency(size1, size2, first, second, proof) is valid


def _bit_ceil(n: int) -> int:
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


def _subtrees(limit: int):
    """The valid subtrees [start, end) of the draft: start is 0 or a multiple of bit_ceil(end - start)."""
    for end in range(1, limit + 1):
        for start in range(end):
            if start == 0 or start % _bit_ceil(end - start) == 0:
                yield start, end


def test_subtree_hash_vectors_of_the_merkle_tree_certs_draft():
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(SUBTREE_VECTOR_LEAVES)]
    digest = hashlib.sha256()
    for start, end in _subtrees(SUBTREE_VECTOR_LEAVES):
        digest.update(f"[{start}, {end}) {merkle.root(leaves[start:end]).hex()}\n".encode())
    assert digest.hexdigest() == SUBTREE_HASH_DIGEST


def test_subtree_inclusion_vectors_of_the_merkle_tree_certs_draft():
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(SUBTREE_VECTOR_LEAVES)]
    digest = hashlib.sha256()
    for start, end in _subtrees(SUBTREE_VECTOR_LEAVES):
        tree = merkle.MerkleTree(leaves[start:end])
        for index in range(start, end):
            path = "".join(f" {node.hex()}" for node in tree.inclusion_proof(index - start))
            digest.update(f"{index} [{start}, {end}){path}\n".encode())
    assert digest.hexdigest() == SUBTREE_INCLUSION_DIGEST

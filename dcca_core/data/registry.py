"""The book's data sets: files, checksums, canonical sources, licences and citations.

Each data set has one or more *forms*, complete sets of files that hold the same data, in order of
preference. The first is our converted `.npz` form (kept in `../shared/data`; it has no canonical
URL); the last is the publisher's original files, which have a URL and can be downloaded. A file is
accepted when one of its digests matches; the first digest is the one we report.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DataFile", "DataForm", "Dataset", "DATASETS", "get_dataset"]


@dataclass(frozen=True)
class DataFile:
    """One file: where it sits under a data root, the digests we accept, where it can be downloaded."""

    path: str  # relative to a data root, e.g. "mnist/t10k-labels-idx1-ubyte.gz"
    hashes: tuple[str, ...]  # accepted digests "algo:hex" (sha256, or md5 where nothing else is published)
    urls: tuple[str, ...] = ()  # download sources, tried in order; empty: no canonical source
    publisher_hash: str | None = None  # the digest the publisher gives; checked on download
    size: int | None = None  # bytes, when known

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def download_hash(self) -> str:
        """Digest pooch checks a download against: the publisher's if there is one, else ours."""
        return self.publisher_hash or self.hashes[0]


@dataclass(frozen=True)
class DataForm:
    """A complete set of files holding one data set in one on-disk format."""

    name: str
    files: tuple[DataFile, ...]
    description: str

    @property
    def downloadable(self) -> bool:
        return all(f.urls for f in self.files)

    def file(self, path: str) -> DataFile:
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(path)


@dataclass(frozen=True)
class Dataset:
    """A data set: what it is, its licence and citation, its forms and how to obtain it."""

    name: str
    title: str
    samples: str
    licence: str
    citation: str
    homepage: str
    forms: tuple[DataForm, ...]
    how_to_get: str
    system_dirs: tuple[tuple[str, str], ...] = ()  # (folder outside the data roots, path prefix it holds)

    def form(self, name: str) -> DataForm:
        for f in self.forms:
            if f.name == name:
                return f
        raise ValueError(f"{self.name} has no form {name!r}; valid forms: {[f.name for f in self.forms]}")


# ---------------------------------------------------------------- MNIST

_MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
# sha256 of the official gz files; each was checked here against a real copy (three from GitHub
# lijie2020/vae, train-images rebuilt bit-exactly, see ../shared/data/README.md).
_MNIST_IDX = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        9912422,
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "d53e105ee54ea40749a09fcbcd1e9432",
        28881,
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "9fb629c4189551a2d022fa330f9573f3",
        1648877,
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ec29112dd5afa0611ce80d1b7f02629c",
        4542,
    ),
}

MNIST = Dataset(
    name="mnist",
    title="MNIST handwritten digits",
    samples="60,000 train + 10,000 test images, 28×28 grey, 10 classes",
    licence="CC BY-SA 3.0 (as usually distributed)",
    citation='Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning applied to document '
    'recognition", Proc. IEEE 86(11):2278-2324, 1998',
    homepage="http://yann.lecun.com/exdb/mnist/",
    forms=(
        DataForm(
            "npz",
            (
                DataFile(
                    "mnist.npz",
                    ("sha256:06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64",),
                    size=11490519,
                ),
            ),
            "our bit-exact conversion: x_train, y_train, x_test, y_test as uint8",
        ),
        DataForm(
            "idx",
            tuple(
                DataFile(
                    f"mnist/{name}",
                    (f"sha256:{sha}",),
                    tuple(m + name for m in _MNIST_MIRRORS),
                    publisher_hash=f"sha256:{sha}",
                    size=size,
                )
                for name, (sha, _md5, size) in _MNIST_IDX.items()
            ),
            "the four official gzipped IDX files",
        ),
    ),
    how_to_get="copy mnist.npz from ../shared/data into data/, or let the loader download the four "
    "official *-ubyte.gz files into data/mnist/ (needs network access)",
)

# ---------------------------------------------------------------- Fashion-MNIST

_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# name: (sha256 of Debian's re-gzipped copy, sha256 of upstream's gz or None, upstream md5 (README), size)
# Debian's and upstream's files decompress to the same IDX bytes (uncompressed md5s f4a8712d…,
# 9018921c…, 8181f547…, 15d48437…); upstream's image sha256s are not published, so they are
# accepted by the md5 from zalandoresearch/fashion-mnist's README.
_FASHION_IDX = {
    "train-images-idx3-ubyte.gz": (
        "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
        None,
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    ),
    "train-labels-idx1-ubyte.gz": (
        "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "25c81989df183df01b3e8a0aad5dffbe",
    ),
    "t10k-images-idx3-ubyte.gz": (
        "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
        None,
        "bef4ecab320f06d8554ea6380940ec79",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        "bb300cfdad3c16e7a12a480ee83cd310",
    ),
}

FASHION_MNIST = Dataset(
    name="fashion_mnist",
    title="Fashion-MNIST (Zalando article images)",
    samples="60,000 train + 10,000 test images, 28×28 grey, 10 classes",
    licence="MIT",
    citation='H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a novel image dataset for benchmarking '
    'machine learning algorithms", arXiv:1708.07747, 2017',
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    forms=(
        DataForm(
            "idx",
            tuple(
                DataFile(
                    f"fashion-mnist/{name}",
                    tuple(f"sha256:{h}" for h in (debian, upstream) if h) + (f"md5:{md5}",),
                    (_FASHION_URL + name,),
                    publisher_hash=f"md5:{md5}",
                )
                for name, (debian, upstream, md5) in _FASHION_IDX.items()
            ),
            "the four gzipped IDX files (upstream's or Debian's re-gzipped copies)",
        ),
    ),
    how_to_get="install the Debian package (sudo apt-get install dataset-fashion-mnist, files in "
    "/usr/share/datasets/fashion-mnist/), or let the loader download upstream's four "
    "*-ubyte.gz files into data/fashion-mnist/ (needs network access)",
    system_dirs=(("/usr/share/datasets/fashion-mnist", "fashion-mnist"),),
)

# ---------------------------------------------------------------- CIFAR-10

_CIFAR_NPZ = {
    "data_batch_1.npz": "98e8beef7563bc15fa6c0ab566e53d78f5022dbe5d4d11ea1f5fa0b6a835b01d",
    "data_batch_2.npz": "83cdf1b06e426743399a2443819d5a9cebabdacd17db56f4dce3f2975b97005c",
    "data_batch_3.npz": "b21ece9f277d171ee32aea9f7641799e8a524ad616eddcabd9425eb42d035471",
    "data_batch_4.npz": "09e1300aded47aaa66f012d3b049df98407f3ca51c5a659eb8e0c300b7ad67d8",
    "data_batch_5.npz": "4995e6d6e92bbe19ef97c54b48322f8604b8ef7523b904698e0674794808b724",
    "test_batch.npz": "04c96cd8730d03758290982381e1e849c10c08ed186ea4120ed4343a33175cbd",
}

CIFAR10 = Dataset(
    name="cifar10",
    title="CIFAR-10 tiny images",
    samples="50,000 train + 10,000 test images, 32×32 RGB, 10 classes",
    licence="no formal licence; free to use with citation",
    citation='A. Krizhevsky, "Learning multiple layers of features from tiny images", tech. report, '
    "University of Toronto, 2009",
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    forms=(
        DataForm(
            "npz",
            tuple(DataFile(f"cifar10/{name}", (f"sha256:{sha}",)) for name, sha in _CIFAR_NPZ.items()),
            "our bit-exact conversion: images (N,32,32,3) uint8 RGB, labels, class_names per batch",
        ),
        DataForm(
            "python",
            (
                DataFile(
                    "cifar10/cifar-10-python.tar.gz",
                    (
                        "sha256:6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                        "md5:c58f30108f718f92721af3b95e74349a",
                    ),
                    ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                    publisher_hash="md5:c58f30108f718f92721af3b95e74349a",
                    size=170498071,
                ),
            ),
            "the official 'CIFAR-10 python version' archive (pickled batches)",
        ),
    ),
    how_to_get="copy the cifar10/ folder from ../shared/data into data/, or let the loader download "
    "cifar-10-python.tar.gz (163 MiB) into data/cifar10/ (needs network access)",
)

# ---------------------------------------------------------------- SKAB

_SKAB_COMMIT = "b2c0d46c2971dcbfe71e26087b6d231998bb91c2"
_SKAB_URL = f"https://raw.githubusercontent.com/waico/SKAB/{_SKAB_COMMIT}/data/"
# Byte-identical to the repository at that commit (same git blob ids); no digest is published, the
# commit pins the content.
_SKAB_CSV = {
    "anomaly-free/anomaly-free.csv": "7641a8742957100ef424dd97adfb3eeab27d4d180645fe2b3c49b7f7146ae9a6",
    "valve1/0.csv": "16af3f71313a23dd33d9b7b8065d836d05c3f9257588881cc7fbe07c076d9dc8",
    "valve1/1.csv": "fe4493bf805baef4e6dfb864094275d8cc2ea80a16b3735e2752b18b6aefd812",
    "valve1/2.csv": "90492413469261886c8896c327241448df5da73fd7739cabfec8dd82de3c0ce4",
    "valve1/3.csv": "cb6afea108eddfd8447307e405f86bbb764b8d8e9130d7849a46e1303e19b8b2",
    "valve1/4.csv": "983aed9dc09991a57911091373c580e1b86d06aa983cd51678f108fd8d709654",
    "valve1/5.csv": "78974991ec87b7f9b9b6b2944f4b525468a9beb36c59b06cd7650d9a15eca14a",
    "valve1/6.csv": "97469c0e0c9c0e0ee5d30794f1f36c6785df5816a112a8b16c59637e8c894685",
    "valve1/7.csv": "ca2c9c6d6fa302c642acec6fbedac495bd12fececeee0a755d45a54e340e0f30",
    "valve1/8.csv": "0c4afb92248b5b35b4c9d734a91ed8318346901f04579074903730569e60416c",
    "valve1/9.csv": "2aa1ae1b2ff505caecda24802b877dc686924bbbeeb7e7db4faa261efb5ed5bd",
    "valve1/10.csv": "ee16be8e4b870c779491e3d1dc9e0ecbfaf29eb013e032abff7a33f2cbbfe2ad",
    "valve1/11.csv": "89660fae4ed5c918db014409bbbc29f498fd99c7e956fab2620d18dea700a973",
    "valve1/12.csv": "90adfa9bc86d4556e6a4ce734436fd5685af79c189cd9828f8df75a7f468ce07",
    "valve1/13.csv": "d6cb6a97437215d3066a87e1fcc5fa4e68017629c043c5315920e3cf1060841c",
    "valve1/14.csv": "5f0bb9bc33c5e6c259263e32e25915c4d24c82b0a94554d48808626da05c1d71",
    "valve1/15.csv": "75cc86ab25d7091eee024739fa06d048753480d5d7d1507077231cab4f1b7a7e",
    "valve2/0.csv": "a6670e7a68c7c6ba62c649bd9d350633e80db624578e9529f2b736ced5e32bde",
    "valve2/1.csv": "b35d27f664eb0851ab73e5eb06633404c7eeaf532edff7e40c68eb9379f2012b",
    "valve2/2.csv": "2c3005cf28b88db715b7f4694e826ff252cba4dbb1eba679b040961f80477e60",
    "valve2/3.csv": "86927555d5c523e587d41500bd5dee4e2468289ec1b988ac17755aeae697d7f8",
    "other/1.csv": "3beaf861bdfe9b4f4eff8e7567c1dd3f506fbd0ce667fc9399d04bd2dc70623d",
    "other/2.csv": "951c326bf36366fa7615b8f28d22f80b3878036069a690f42b3e223737a6a8d1",
    "other/3.csv": "f3c19a89f74f62a475c246b9263f161f7a734dd88304de803939cebaa55c7ebd",
    "other/4.csv": "56ca23f4eb61d1347d079eb9a35c60a59b8b64e160c00dd0c2ec69e0df0b2a4b",
    "other/5.csv": "7347b326df3a92c0810c69add0e5621939af7a1c1cb4755081d088e72d36920f",
    "other/6.csv": "eb8f05622a62c855040ea358b87be35fb1a4a3720ba0610569bab384db4b6e04",
    "other/7.csv": "1bee14f49bfc817ba2c335fb427baa71153d8f8ab52e72652f15f74e4b77daec",
    "other/8.csv": "12c138ed99c198e0a7ece886fe01bfd16bbdde206fad6c5d74322b6b9d6488d0",
    "other/9.csv": "11c4514b0bc706acff637fea6707ad9258ac878fe9dff3d0b11d2b618d94d8ea",
    "other/10.csv": "72683644f6f17689f619076a66a9ec02cbc0502bd669924c4c33951d1bdad9b0",
    "other/11.csv": "98a2fff3b6516205ae2e12f2dd30d7f08465fe4321a1bd5cf823396985ecb37b",
    "other/12.csv": "b0882efbcf2669223ae78bee61c9f10074a9b2375f0e86b8957ae5ce4aad1e72",
    "other/13.csv": "b3f1da02064d11234836a9fa1a2536bb0d3b6c6998ab60b0b71869b98e94d860",
    "other/14.csv": "c7f361e55397cc9efd4a76b6876111eda79b650d10aeb007342ca5972152eaef",
}

SKAB = Dataset(
    name="skab",
    title="SKAB, the Skoltech Anomaly Benchmark (pump testbed sensors)",
    samples="34 labelled experiments + 1 anomaly-free run, 46,806 rows × 8 channels at 1 Hz",
    licence="GPL-3.0",
    citation="I. Katser, V. Kozitsin, Skoltech Anomaly Benchmark (SKAB), Kaggle, 2020, doi:10.34740/KAGGLE/DSV/1693952",
    homepage="https://github.com/waico/SKAB",
    forms=(
        DataForm(
            "csv",
            tuple(DataFile(f"skab/{rel}", (f"sha256:{sha}",), (_SKAB_URL + rel,)) for rel, sha in _SKAB_CSV.items()),
            f"the 35 original ';'-separated CSVs of waico/SKAB at commit {_SKAB_COMMIT[:7]}",
        ),
    ),
    how_to_get="copy the skab/ folder from ../shared/data into data/, or let the loader download the 35 "
    f"CSVs from GitHub waico/SKAB at commit {_SKAB_COMMIT[:7]} into data/skab/ (needs network access)",
)

# ---------------------------------------------------------------- Tennessee Eastman (Braatz)

_TEP_COMMIT = "0643318858ce7c87292bd59820b459e12a13d009"
_TEP_URL = f"https://raw.githubusercontent.com/camaramm/tennessee-eastman-profBraatz/{_TEP_COMMIT}/"
# The publisher gives no digest. These are the sha256 of the files at that commit, computed here from
# the repository's blobs (reading them reproduces tep_braatz.npz exactly).
_TEP_DAT = {
    "d00.dat": "4c3c0b11eefacf93e5d2529e2866d7a625e37aa9153d0f95fae17a6c9e560deb",
    "d01.dat": "b0da22ac7561d82b0ba0b48bf87d2b3a8655cb23a3dc37330dd03cdd126c387c",
    "d02.dat": "af1a46ba3a5482be3e7b143606f22ae509138544af2a2d0eb7389459257f8179",
    "d03.dat": "df39c57bdac7ea476ee236c289e0f59b0cbf868adfbbbaf213f692d8cd96e52a",
    "d04.dat": "346702fce33d9707f0b4ec5b8f533ccb08be60313607d5156d7e237b80a87b3f",
    "d05.dat": "3a47bfce4010ce0c634ae828409cce657ecd03bf0c4d59f8dd4a3d4f792f493f",
    "d06.dat": "ff0882a44bb74f5d2d1a864425ac7e5ae82420391c7060232cefc08ad5bf7331",
    "d07.dat": "e3fd272ed53f899ab0c8278c7eede55418b01a2339b5fcff14a87fefaa3d181d",
    "d08.dat": "4817735e339449bec909d1cbe77e421acc79c7357b8c6b5bb82c6e5788b72449",
    "d09.dat": "cb9146da760cdd52cad575d745413a5cfb4b447af2db9fb6a424cf6881ff0fcd",
    "d10.dat": "e08697b5d074aea2345434bc4d26296f5dbdbb7efbf37a1bbee292b2ce765e8f",
    "d11.dat": "8294734d6f6e8f6b8643b9dc72f38ce40afd868d30dee9368a0d26b963a0af9f",
    "d12.dat": "62fcb3c71c0eda8eaaaf707f35296e60b17baaf9a9aef588687532cf4c560d38",
    "d13.dat": "f755d4ab6dc1d30e36c2e4604eeb0baff4b91032f487398b97fb1220eda861dd",
    "d14.dat": "29fda7d5cae58cb7240e569e2d2d436371d077d282187d9205c7dc01df8755af",
    "d15.dat": "4c82fe0864cce2521e91a2c3e59d8630627c5e633cffe83f5e34ebc9901b5bca",
    "d16.dat": "ca1dfc5e31292052e83dcf6b4f60a73da197eb8a47e65d908ed7ac3cbcccb007",
    "d17.dat": "596aad6421a64d257bfa098cd5c4664d46dc49d88d1bad86cbc9518e6cd69e42",
    "d18.dat": "b4d182c070036104cf150bc33f7aa879805f19943eb298bc05bdc8647dc70291",
    "d19.dat": "ee3d2a50285cb3ba5e52ec05ea7cb39dc2b574bec592af9d44c192be132aeea6",
    "d20.dat": "acdfe6c256fa6de74a811d6c7df1b710a9f0ed60f48242be92f3fa30db3df6b3",
    "d21.dat": "f34a9fefffef04ef1f49b3fb74e3def0010cda27a8577d814dd50604e2f8dc09",
    "d00_te.dat": "57d56da4199e3d73582855d810be1d13d931386fd728bf1694798c7b0a03678c",
    "d01_te.dat": "e7e6992fb39664e739fccbc001a1c5d5f7cb21829544f734ca3f282c26f680e5",
    "d02_te.dat": "a34bd9c3693fa96bd3ee533fb7fbe29a9d226a4e3250b585ef1308e1136dbfb0",
    "d03_te.dat": "b7bf6f2ed7cff0a5577898b009edd252b9bdf6ee9ff7dbeacf9af9aa4c6abace",
    "d04_te.dat": "1ccb488dd5feac11aad54623451168abef066229e685872597897800363916f9",
    "d05_te.dat": "1def7258a2865aeead699d52c8cf926fbf34c1467aaf298121987ab858fd0888",
    "d06_te.dat": "8a3adc7121eaa9b9300c27f9c57a8ab356315401cb964310a4a8244dd34bf79d",
    "d07_te.dat": "e01b7c81daf9fccc4495cbde5658296918276b3c078044893f6e945dd91d3446",
    "d08_te.dat": "c0637f02f23b79890b43cfee9604818ad6d7f81532223d76acf1da0d6e2a2cc1",
    "d09_te.dat": "513df6c3a4fd48e0eaddb0002cd8cdab3a78a5c83c47883bb52d2dc6c2472428",
    "d10_te.dat": "3a278be79d8d111fc60be3cfb4f961c28e2dc632f17eb519886aa0f95864ffc6",
    "d11_te.dat": "6d60a4c932d918e1ab26ae5d16320936a665f3aad3f05482d23f5c4550b9f29a",
    "d12_te.dat": "2180fcecb01d1b110b429ba2969d6b18dcc625599e3640e54f69afa32dccbe50",
    "d13_te.dat": "2e34e0c427d6e41d77d6cae76550b7e95004f9f13bc093278ecf5c282a1c9f03",
    "d14_te.dat": "e8976d056c0769cebbcec3bcba89d2468040ccae7acbea55ebc3b2e56b217396",
    "d15_te.dat": "a7242b956837bec8ca7f224d01805247f2aea6ea868eaa064e068b5c0761b1e5",
    "d16_te.dat": "8381d7371aac49b498e7bf93149b77a0a6bbeffe73520881dcbe8ae96277244d",
    "d17_te.dat": "27d2d72052064e3cbb7a45df8073f15bb83b77403f532616e73c8869b043e7c9",
    "d18_te.dat": "1db5b93a7daa58ed1b641845b58ad818546ced7f3de866c086da18a7ebef5041",
    "d19_te.dat": "c24dd77f787f89347273addc8a453d79f0b99edd64d43be11a5e0907bd515c5f",
    "d20_te.dat": "e54035eda95311f13dd095f87607d97a89b7541afa2a3f68af098f33a5e2e6e5",
    "d21_te.dat": "b6823aa09638cd59cb168bc24f991b6d4d557d8aea62b0b2a87ee67c21ba5a83",
}

TEP = Dataset(
    name="tep",
    title="Tennessee Eastman Process, Braatz data (simulated chemical plant)",
    samples="10,580 train + 21,120 test rows × 52 variables, 21 fault types + normal",
    licence="BSD/NCSA-style, © 1998-2002 Board of Trustees of the University of Illinois (R. Braatz)",
    citation="J. J. Downs, E. F. Vogel, Comput. Chem. Eng. 17:245-255, 1993; L. H. Chiang, E. L. Russell, "
    "R. D. Braatz, Fault Detection and Diagnosis in Industrial Systems, Springer, 2001",
    homepage="https://github.com/camaramm/tennessee-eastman-profBraatz",
    forms=(
        DataForm(
            "npz",
            (
                DataFile(
                    "tep/tep_braatz.npz",
                    ("sha256:f71d9e968411038972c576b4511c7eacbf8e362054984270c910e0100cdaf13f",),
                    size=4866070,
                ),
            ),
            "our lossless conversion: train_X, train_run, test_X, test_run, test_row, test_fault_active, var_names",
        ),
        DataForm(
            "dat",
            tuple(DataFile(f"tep/{name}", (f"sha256:{sha}",), (_TEP_URL + name,)) for name, sha in _TEP_DAT.items()),
            f"the 44 original whitespace-separated .dat files at commit {_TEP_COMMIT[:7]} (d00.dat is transposed)",
        ),
    ),
    how_to_get="copy tep/tep_braatz.npz from ../shared/data into data/tep/, or let the loader download the "
    f"44 .dat files from GitHub camaramm/tennessee-eastman-profBraatz at commit {_TEP_COMMIT[:7]} "
    "into data/tep/ (needs network access)",
)

#: Every data set of the book, by name.
DATASETS: dict[str, Dataset] = {d.name: d for d in (MNIST, FASHION_MNIST, CIFAR10, SKAB, TEP)}


def get_dataset(name: str) -> Dataset:
    """The registry entry for `name`, or a ValueError listing the known names."""
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown data set {name!r}; known: {sorted(DATASETS)}") from None

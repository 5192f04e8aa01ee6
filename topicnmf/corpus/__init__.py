"""Read corpora: turn sources into a re-iterable stream of :class:`Document`.

Sources
-------
``load_corpus`` takes a list of sources; each one is

* a **directory**: every file under it (recursively) that one of the ``glob``
  patterns matches is read. The default glob is ``*.txt`` (``*.csv``, ``*.tsv``,
  ``*.jsonl`` or ``*.json`` when ``format`` names one of those). Matching ignores
  case; a pattern without ``/`` is matched against the file name, one with ``/``
  against the path relative to the directory. Files and folders that an ``exclude``
  pattern matches (the same way; one ending in ``/`` matches folders only) are
  skipped, a folder with all it holds. Hidden files and folders (name starting
  with ``.``) are skipped. Linked folders are followed; a folder reached a second
  time (a loop, or two links to one folder) is skipped with a warning. By default each
  file is one document; with ``format`` each file is parsed in that format. A
  file that looks binary (a NUL byte in its first 8 kB) is skipped with a warning,
  and so is, by default, a file that does not decode (``encoding_errors``).
* a **file**: ``.txt`` (one document per line; blank lines are skipped),
  ``.csv`` / ``.tsv`` (one document per row; ``text_column`` holds the text),
  ``.jsonl`` (one JSON object per line), ``.json`` (one array of strings, or of
  objects whose ``text_column`` holds the text; :mod:`topicnmf.corpus.jsonformats`).
  Any of these may be gzip-compressed (recognised by content, not by name;
  ``.json.gz`` is a JSON array). A file with another extension is read as lines.
* ``-``: standard input, one document per line unless ``format`` says
  otherwise. It is read once and kept (in memory up to 8 MiB, beyond that in a
  temporary file) so that the corpus can be iterated again. Each read takes what
  is there, so on a terminal one end-of-file (Ctrl-D) ends it.
* ``20newsgroups``, ``20newsgroups:train``, ``20newsgroups:test``,
  ``20newsgroups:all`` (plain ``20newsgroups`` is the train split): the
  20 Newsgroups "bydate" collection, cleaned exactly like scikit-learn's
  ``fetch_20newsgroups(remove=...)`` (see :mod:`topicnmf.datasets`). The name
  wins over a local path of the same name (write ``./20newsgroups`` for the path).

``format`` (``lines``, ``document``, ``csv``, ``tsv``, ``jsonl``, ``json``) overrides the
detection for files, directories and standard input; ``document`` makes a
whole file one document. CSV and TSV are read strictly unless ``csv_lenient``
(the rules are in :mod:`topicnmf.corpus.readers`).

Document ids
------------
* directory, one document per file: the path relative to the directory, with
  ``/`` separators (``sub/a.txt``); with a ``format``, ``<path>:<id in file>``;
* lines: the line number in the file, from 1 (blank lines are skipped but keep
  their number, so an id is always the line an editor shows);
* CSV/TSV/JSONL: the value of ``id_column`` (which must be unique) or else the
  record number from 1 (header and blank lines not counted);
* JSON array: the value of ``id_column`` or else the element's position from 1;
* ``document`` format: the source as given;
* 20 Newsgroups: ``<split>/<newsgroup>/<message number>``, e.g.
  ``train/rec.autos/103007``; the label is the newsgroup.

With more than one source every id is prefixed by its source as given (trailing
``/`` removed) and ``:``, e.g. ``notes.txt:12`` or ``docs:sub/a.txt``, so ids
from different sources cannot clash. Giving the same source twice is an error,
and so is a source named like another plus ``:`` (``a`` and ``a:b``), the one
case where prefixed ids could coincide.

Sources described
-----------------
``Corpus.describe_sources()`` gives each source as given with the settings it is read
with (format as detected, globs, exclusions, columns, encoding; subset, categories
and parts removed for 20 Newsgroups); a fit records them in the model.

Order
-----
Deterministic: sources in the order given; directory entries sorted by name,
depth first; files in file order; 20 Newsgroups split by split (train before
test), then newsgroup name sorted, then message number numerically.

Bounds and memory
-----------------
Texts are streamed: a file is read line by line, directory files one at a time.
A single document (a line, a JSON line or array element, a whole file) larger than
:data:`~topicnmf.corpus.base.MAX_DOCUMENT_BYTES` (256 MiB), or a CSV/TSV field
longer than :data:`~topicnmf.corpus.readers.MAX_FIELD_CHARS` (134,217,728 characters),
is an error, whatever a compressed file inflates to; reading holds a line about
twice (once as bytes, once as text), a CSV field about six times (the csv module
builds it 4 bytes a character), a JSON array element about twice (its JSON text, then
its value), and otherwise 1 MiB of a JSON array at a time. Compressed files are
streamed without a bound on their total size: a file that inflates to many documents
is a large corpus, read in constant memory.
``id_column`` values are remembered to check that they are unique, and the
selected 20 Newsgroups messages (at most 50 MB) are held while they are put in
order. A damaged or cut-short gzip file or archive is an error, never a partial
read.
"""

from topicnmf.corpus.base import ENCODING_ERRORS, MAX_DOCUMENT_BYTES, CorpusStats, Document
from topicnmf.corpus.load import Corpus, load_corpus
from topicnmf.corpus.readers import FORMATS
from topicnmf.datasets.clean import strip_newsgroup
from topicnmf.datasets.newsgroups import NEWSGROUPS

__all__ = [
    "ENCODING_ERRORS",
    "FORMATS",
    "MAX_DOCUMENT_BYTES",
    "NEWSGROUPS",
    "Corpus",
    "CorpusStats",
    "Document",
    "load_corpus",
    "strip_newsgroup",
]

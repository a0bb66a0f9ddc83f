"""dcmdump: dump DICOM files and data sets as text, exactly as DCMTK's dcmdump prints them."""
from __future__ import annotations

import sys

from dcmpy.apps._cmdline import App, log, run
from dcmpy.apps._files import collect_input_files, read_options_from, add_input_options

TOOL = "dcmdump"


def build_app() -> App:
    app = App(TOOL, "Dump DICOM file and data set", columns=(3, 21))
    app.param("dcmfile-in", "DICOM input file or directory to be dumped", multiple=True)
    add_input_options(app)
    app.group("processing options:")
    app.subgroup("specific character set:")
    app.option("+U8", "--convert-to-utf8", "convert all element values that are affected\n"
               "by Specific Character Set (0008,0005) to UTF-8", dest="to_utf8")
    app.group("output options:")
    app.subgroup("printing:")
    app.option("+L", "--print-all", "print long tag values completely", dest="print_all")
    app.option("-L", "--print-short", "print long tag values shortened (default)",
               dest="print_all", const=False)
    app.option("+T", "--print-tree", "print hierarchical structure as a simple tree", dest="tree")
    app.option("-T", "--print-indented", "print hierarchical structure indented (default)",
               dest="tree", const=False)
    app.option("+F", "--print-filename", "print header with filename for each input file",
               dest="print_filename", const="all")
    app.option("+Fs", "--print-file-search", "print header with filename only for those input\n"
               "files that contain one of the searched tags", dest="print_filename", const="search")
    app.subgroup("mapping:")
    app.option("+Un", "--map-uid-names", "map well-known UID numbers to names (default)",
               dest="uid_names", default=True)
    app.option("-Un", "--no-uid-names", "do not map well-known UID numbers to names",
               dest="uid_names", const=False)
    app.subgroup("quoting:")
    app.option("+Qn", "--quote-nonascii", "quote non-ASCII and control chars as XML markup",
               dest="quote", const="html")
    app.option("+Qo", "--quote-as-octal", "quote non-ASCII and control ch. as octal numbers",
               dest="quote", const="octal")
    app.option("-Qn", "--print-nonascii", "print non-ASCII and control chars (default)",
               dest="quote", const=None)
    app.subgroup("color:")
    app.option("+C", "--print-color", "use ANSI escape codes for colored output", dest="color")
    app.option("-C", "--no-color", "do not use any ANSI escape codes (default)", dest="color",
               const=False)
    app.subgroup("error handling:")
    app.option("-E", "--stop-on-error", "do not print if file is damaged (default)",
               dest="ignore_errors", const=False)
    app.option("+E", "--ignore-errors", "attempt to print even if file is damaged",
               dest="ignore_errors")
    app.subgroup("searching:")
    app.option("+P", "--search", "print the textual dump of tag t\n"
               "this option can be specified multiple times\n"
               "(default: the complete file is printed)",
               value='[t]ag: "gggg,eeee" or dictionary name', dest="search", append=True)
    app.option("+s", "--search-all", "print all instances of searched tags (default)",
               dest="search_all", default=True)
    app.option("-s", "--search-first", "only print first instance of searched tags",
               dest="search_all", const=False)
    app.option("+p", "--prepend", "prepend sequence hierarchy to printed tag,\n"
               "denoted by: (gggg,eeee).(gggg,eeee).*\n(only when used with --search)",
               dest="prepend")
    app.option("-p", "--no-prepend", "do not prepend hierarchy to tag (default)",
               dest="prepend", const=False)
    app.subgroup("writing:")
    app.option("+W", "--write-pixel", "write pixel data to a .raw file stored in d\n"
               "(little endian, filename created automatically)",
               value="[d]irectory: string", dest="pixel_dir")
    return app


def main(argv: list[str] | None = None) -> int:
    opts = build_app().parse(argv)
    from dcmpy.dcmdata.dump import DumpOptions, dump_files
    from dcmpy.dcmdata.tag import parse_tag
    search = []
    for text in opts.search or []:
        tag = parse_tag(text)
        if tag is None:
            log.warn("unrecognized tag name: '%s'", text)     # DCMTK warns, then gives up
            return 1
        search.append(tag)
    if opts.color:
        log.warn("--print-color is not supported yet: printing without ANSI colours")
    files = collect_input_files(opts, TOOL)
    if not files:
        log.fatal("no input files to be dumped")
        return 1
    dump_opts = DumpOptions(
        print_all=bool(opts.print_all),
        load_limit=opts.max_read_length * 1024 if opts.load_mode == "short" else None,
        uid_names=opts.uid_names, to_utf8=bool(opts.to_utf8), quote=opts.quote,
        tree=bool(opts.tree), search=search, search_all=opts.search_all,
        print_path=bool(opts.prepend))
    read_opts = read_options_from(opts)
    out = sys.stdout.buffer
    return dump_files(files, out, dump_opts, read_opts, opts.print_filename,
                      bool(opts.ignore_errors), opts.pixel_dir, log, TOOL)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()

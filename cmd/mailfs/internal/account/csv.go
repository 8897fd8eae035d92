package account

// mailfs accounts import: many accounts at once from a CSV file, merged
// into the config file. Every row is checked first; one bad row and
// nothing is written. The config file is replaced atomically.

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"mailfs/cache/atomicfile"
	"mailfs/imapsrc"
)

// csvColumns are the columns an ACCOUNTS.csv may have.
var csvColumns = []string{"name", "user", "provider", "server", "tls", "password_cmd", "password_file", "oauth_token_cmd"}

// csvRow is one account read from the CSV file.
type csvRow struct {
	line      int            // the row's first line
	fields    map[string]int // column name → line of that cell
	fa        fileAccount
	malformed bool // wrong number of cells: reported, not checked further
}

// ImportResult says what Import did, or (BadRows > 0) why it wrote nothing.
type ImportResult struct {
	Added, Replaced []string // account names, in the CSV's order
	Rows, BadRows   int      // the CSV's account rows, and those with a problem
}

// Import merges the accounts of csvPath into the config file at
// configPath (created when missing), replacing accounts of the same name
// if replace. On a bad row it returns a *fileError for the CSV file,
// with BadRows and Rows set, and writes nothing.
func Import(configPath, csvPath string, replace bool) (ImportResult, error) {
	rows, ferr, err := readAccountsCSV(csvPath)
	if err != nil {
		return ImportResult{}, err
	}

	// The config as it is: it must load, so that we never build on a file
	// that is already broken.
	var (
		doc   []byte
		fc    = &fileConfig{}
		cfg   = &Config{Formats: DefaultFormats, Conns: DefaultConns}
		lines keyLines
	)
	target := configPath
	if p, err := filepath.EvalSymlinks(configPath); err == nil {
		target = p // keep a symlink (dotfiles) pointing at the file we write
	}
	doc, err = os.ReadFile(target)
	switch {
	case errors.Is(err, os.ErrNotExist):
		doc = nil
	case err != nil:
		return ImportResult{}, fmt.Errorf("config file: %w", err)
	default:
		cfg, fc, err = parseConfig(configPath, doc)
		if err != nil {
			return ImportResult{}, fmt.Errorf("the config file has problems; fix them first:\n%w", err)
		}
		lines = mapLines(doc)
	}

	// Check every row; collect every problem.
	cwd, _ := os.Getwd()     // relative paths in the CSV are from here
	seen := map[string]int{} // folded name → line in the CSV
	existing := map[string]int{}
	for i, fa := range fc.Account {
		existing[strings.ToLower(fa.Name)] = i
	}
	for _, r := range rows {
		if r.malformed {
			continue
		}
		at := func(key string) int {
			if l, ok := r.fields[key]; ok {
				return l
			}
			return r.line
		}
		a := r.fa.account(cwd, cfg)
		for _, p := range a.check() {
			ferr.add(at(p.key), "%s", p.msg(a.Name))
		}
		if a.Name == "" {
			continue
		}
		k := strings.ToLower(a.Name)
		if l, dup := seen[k]; dup {
			ferr.add(at("name"), "account %q: name already used on line %d", a.Name, l)
			continue
		}
		seen[k] = at("name")
		if i, ok := existing[k]; ok && !replace {
			ferr.add(at("name"), "account %q: already in %s (line %d): use --replace to replace it",
				a.Name, configPath, lines.line("account", strconv.Itoa(i)))
		}
	}
	if err := ferr.err(); err != nil {
		return ImportResult{Rows: len(rows), BadRows: countBadRows(rows, ferr)}, err
	}
	if len(rows) == 0 {
		return ImportResult{}, nil
	}

	// Merge: replaced accounts in place, new ones at the end.
	res := ImportResult{Rows: len(rows)}
	newDoc := slices.Clone(doc)
	type edit struct {
		index int
		fa    fileAccount
	}
	var edits []edit
	var added []fileAccount
	for _, r := range rows {
		if i, ok := existing[strings.ToLower(r.fa.Name)]; ok {
			edits = append(edits, edit{i, mergeAccount(fc.Account[i], r.fa)})
			res.Replaced = append(res.Replaced, r.fa.Name)
		} else {
			added = append(added, r.fa)
			res.Added = append(res.Added, r.fa.Name)
		}
	}
	if len(edits) > 0 {
		blocks, err := accountBlocks(doc, len(fc.Account))
		if err != nil {
			return ImportResult{}, err
		}
		slices.SortFunc(edits, func(a, b edit) int { return b.index - a.index }) // from the end: offsets stay valid
		for _, e := range edits {
			text, err := marshalAccounts([]fileAccount{e.fa})
			if err != nil {
				return ImportResult{}, err
			}
			b := blocks[e.index]
			newDoc = slices.Concat(newDoc[:b[0]], text, newDoc[b[1]:])
		}
	}
	if len(added) > 0 {
		text, err := marshalAccounts(added)
		if err != nil {
			return ImportResult{}, err
		}
		if len(newDoc) == 0 {
			newDoc = []byte("# mailfs config file; see 'mailfs accounts import --help' and the README.\n")
		}
		if !bytes.HasSuffix(newDoc, []byte("\n")) {
			newDoc = append(newDoc, '\n')
		}
		newDoc = append(newDoc, '\n')
		newDoc = append(newDoc, text...)
	}
	if _, _, err := parseConfig(configPath, newDoc); err != nil {
		return ImportResult{}, fmt.Errorf("the merged config file would not load (nothing was written):\n%w", err)
	}
	err = atomicfile.Write(target, func(f *os.File) error {
		_, err := f.Write(newDoc)
		return err
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("write config: %w", err)
	}
	return res, nil
}

// countBadRows counts the rows with a problem; a problem outside any row
// (e.g. in the header) counts as one.
func countBadRows(rows []csvRow, ferr *fileError) int {
	bad := map[int]bool{}
	for _, p := range ferr.Problems {
		row := -1
		for i, r := range rows {
			last := r.line
			for _, l := range r.fields {
				last = max(last, l)
			}
			if p.Line >= r.line && p.Line <= last {
				row = i
				break
			}
		}
		bad[row] = true
	}
	return len(bad)
}

// mergeAccount is old with the CSV's columns and credential taken from
// row; old's other settings stay.
func mergeAccount(old, row fileAccount) fileAccount {
	m := old
	m.Name, m.User, m.Provider, m.Server, m.TLS = row.Name, row.User, row.Provider, row.Server, row.TLS
	m.PasswordCmd, m.PasswordFile, m.OAuthTokenCmd = row.PasswordCmd, row.PasswordFile, row.OAuthTokenCmd
	m.PasswordEnv = ""
	if row.OAuthTokenCmd == "" || (old.Auth != imapsrc.AuthXOAuth2 && old.Auth != imapsrc.AuthOAuthBearer) {
		m.Auth = ""
	}
	if p, ok := imapsrc.LookupProvider(row.Provider); !ok || !p.NeedsRegion() || row.Server != "" {
		m.Region = ""
	}
	return m
}

// accountBlocks returns, for each of the n accounts of doc, the byte range
// of its [[account]] table: from its header line to the next header,
// without the comments and blank lines that lead into the next one.
func accountBlocks(doc []byte, n int) ([][2]int, error) {
	offsets, isAccount := headerOffsets(doc)
	var blocks [][2]int
	for i, off := range offsets {
		if !isAccount[i] {
			continue
		}
		end := len(doc)
		if i+1 < len(offsets) {
			end = offsets[i+1]
		}
		blocks = append(blocks, [2]int{off, trimTrailingComments(doc, off, end)})
	}
	if len(blocks) != n {
		return nil, errors.New("the config file's accounts are not all [[account]] tables, so they cannot be replaced in place: edit it by hand")
	}
	return blocks, nil
}

// trimTrailingComments moves end back over whole lines that are blank or
// comments, but not before the first line (the header) ends.
func trimTrailingComments(doc []byte, start, end int) int {
	firstEnd := bytes.IndexByte(doc[start:end], '\n')
	if firstEnd < 0 {
		return end
	}
	minEnd := start + firstEnd + 1
	for end > minEnd {
		lineStart := bytes.LastIndexByte(doc[:end-1], '\n') + 1
		if lineStart < minEnd {
			break
		}
		line := bytes.TrimSpace(doc[lineStart:end])
		if len(line) != 0 && line[0] != '#' {
			break
		}
		end = lineStart
	}
	return end
}

func marshalAccounts(accts []fileAccount) ([]byte, error) {
	b, err := toml.Marshal(struct {
		Account []fileAccount `toml:"account"`
	}{accts})
	if err != nil {
		return nil, fmt.Errorf("encode accounts: %w", err)
	}
	return b, nil
}

// readAccountsCSV reads the rows of an ACCOUNTS.csv. A bad header or
// malformed CSV is an error; a row with the wrong number of cells is a
// problem in the returned fileError, and reading goes on.
func readAccountsCSV(path string) ([]csvRow, *fileError, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("accounts file: %w", err)
	}
	return parseAccountsCSV(path, data)
}

// parseAccountsCSV is readAccountsCSV of data, read from path.
func parseAccountsCSV(path string, data []byte) ([]csvRow, *fileError, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a spreadsheet's BOM
	ferr := &fileError{File: path}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.FieldsPerRecord = -1 // checked here, to name the row
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		ferr.add(1, "empty: want a header row naming the columns (%s)", strings.Join(csvColumns, ","))
		return nil, nil, ferr.err()
	}
	if err != nil {
		return nil, nil, csvError(path, err)
	}
	headerLine, _ := r.FieldPos(0)
	cols := make([]string, len(header))
	have := map[string]bool{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		cols[i] = h
		switch {
		case h == "":
			ferr.add(headerLine, "column %d has no name", i+1)
		case !slices.Contains(csvColumns, h):
			msg := fmt.Sprintf("unknown column %q", h)
			if s := Suggest(h, csvColumns); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			ferr.add(headerLine, "%s; the columns are %s", msg, strings.Join(csvColumns, ","))
		case have[h]:
			ferr.add(headerLine, "column %q appears twice", h)
		}
		have[h] = true
	}
	for _, req := range []string{"name", "user"} {
		if !have[req] {
			ferr.add(headerLine, "no %q column (required)", req)
		}
	}
	if !have["provider"] && !have["server"] {
		ferr.add(headerLine, `neither a "provider" nor a "server" column (one is required)`)
	}
	if err := ferr.err(); err != nil {
		return nil, nil, err
	}

	var rows []csvRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, csvError(path, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(cols) {
			if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
				continue // a blank line with spaces
			}
			ferr.add(line, "%d cells, but the header has %d columns", len(rec), len(cols))
			rows = append(rows, csvRow{line: line, malformed: true})
			continue
		}
		row := csvRow{line: line, fields: map[string]int{}}
		empty := true
		for i, v := range rec {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			empty = false
			row.fields[cols[i]], _ = r.FieldPos(i)
			switch cols[i] {
			case "name":
				row.fa.Name = v
			case "user":
				row.fa.User = v
			case "provider":
				row.fa.Provider = v
				if p, ok := imapsrc.LookupProvider(v); ok {
					row.fa.Provider = p.Name
				}
			case "server":
				row.fa.Server = v
			case "tls":
				row.fa.TLS = strings.ToLower(v)
			case "password_cmd":
				row.fa.PasswordCmd = v
			case "password_file":
				// Relative to where the import runs, not to the config file.
				row.fa.PasswordFile = v
				if !strings.HasPrefix(v, "~") {
					if cwd, err := os.Getwd(); err == nil {
						row.fa.PasswordFile = expandPath(v, cwd)
					}
				}
			case "oauth_token_cmd":
				row.fa.OAuthTokenCmd = v
			}
		}
		if !empty {
			rows = append(rows, row)
		}
	}
	return rows, ferr, nil
}

func csvError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &fileError{File: path, Problems: []problem{{pe.Line, pe.Err.Error()}}}
	}
	return fmt.Errorf("%s: %w", path, err)
}

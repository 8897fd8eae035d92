// Package account is mailfs's account model: the config file and the
// accounts in it, checked, with their credentials read only when asked.
//
// It owns:
//   - config.go: the config file ($XDG_CONFIG_HOME/mailfs/config.toml;
//     testdata/config.example.toml shows every key), decoded into Config
//     and Account with the top-level defaults applied, every problem
//     reported in one *fileError with its file, line and key.
//   - account.go: Account and its checks (Check), shared by the config
//     file, CSV import and the command line's flags (an account with
//     FromFlags names flags in its errors, not keys).
//   - secret.go: SourceConfig, which resolves the provider preset and
//     reads the password (password_cmd, password_file, password_env) into
//     an imapsrc.Config; an OAuth2 token command is passed on to imapsrc,
//     which runs it at login.
//   - csv.go: Import, which merges the accounts of a CSV file into the
//     config file, keeping the rest of its text, and replaces it atomically.
//
// It must not contact a server or run a command except in SourceConfig.
// The rules imapsrc enforces itself (TLS modes, login methods, folder
// patterns, provider presets in imapsrc/providers.go) are checked by
// calling imapsrc, so that both say the same thing.
//
// Library: github.com/pelletier/go-toml/v2. It is pure Go, maintained, and
// the one Go TOML decoder that reports unknown keys with their line and
// column (Decoder.DisallowUnknownFields → *toml.StrictMissingError, one
// DecodeError with Position and Key per key), which the config's promise
// ("unknown keys are errors that name the key and line") needs.
// BurntSushi/toml only lists undecoded keys, without positions. Its
// unstable parser also gives the line of every key, so that the checks
// made after decoding (bad provider, two credentials, …) point at a line
// too.
package account

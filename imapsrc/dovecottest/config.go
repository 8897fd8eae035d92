package dovecottest

import (
	"fmt"
	"os/user"
	"strconv"
	"strings"
)

// config is what varies between instances' dovecot.conf files.
type config struct {
	dir           string // the instance's folder; everything lives below it
	instance      string // instance_name
	port, tlsPort int    // imap and imaps listeners on 127.0.0.1
	pop3Port      int    // a pop3 listener (STLS offered) too, if not 0
	uid, gid      int    // owner of the mail files
	rootless      bool   // run every process as the current user
	rawlog        bool   // write a rawlog of every IMAP session
	quota         bool   // the quota plugin, with the user's limit from the users file
	maxMailSize   string // quota_max_mail_size, if any
}

// String renders a complete dovecot.conf for Dovecot 2.3. It includes
// nothing from /etc/dovecot: only IMAP (and POP3 if asked), only on 127.0.0.1, one user from a
// passwd-file, Maildir++ with "/" as the hierarchy separator.
func (c config) String() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# written by mailfs/imapsrc/dovecottest")
	p("instance_name = %s", c.instance)
	p("base_dir = %s/run", c.dir)
	p("state_dir = %s/state", c.dir)
	p("log_path = %s/dovecot.log", c.dir)
	if c.pop3Port != 0 {
		p("protocols = imap pop3")
		p("pop3_uidl_format = %%08Xu%%08Xv")
	} else {
		p("protocols = imap")
	}
	p("listen = 127.0.0.1")
	p("shutdown_clients = yes")
	p("")
	p("ssl = yes")
	p("ssl_cert = <%s/cert.pem", c.dir)
	p("ssl_key = <%s/key.pem", c.dir)
	p("disable_plaintext_auth = no")
	p("auth_mechanisms = plain login")
	p("")
	p("mail_location = maildir:~/Maildir:INDEX=%s/mail/index/%%n", c.dir)
	p("mail_max_userip_connections = 50")
	p("first_valid_uid = %d", c.uid)
	p("last_valid_uid = 0")
	p("first_valid_gid = %d", min(c.gid, 1))
	// Rawlogs of every IMAP session (the client's commands in *.in), so a
	// test can count what a client fetched.
	if c.rawlog {
		p("protocol imap {")
		p("  rawlog_dir = %s/mail/rawlog", c.dir)
		p("}")
		if c.pop3Port != 0 {
			p("protocol pop3 {")
			p("  rawlog_dir = %s/mail/rawlog-pop3", c.dir)
			p("}")
		}
	}
	if c.quota {
		p("mail_plugins = $mail_plugins quota")
		p("protocol imap {")
		p("  mail_plugins = $mail_plugins imap_quota")
		p("}")
		p("plugin {")
		p("  quota = count:User quota")
		p("  quota_vsizes = yes")
		if c.maxMailSize != "" {
			p("  quota_max_mail_size = %s", c.maxMailSize)
		}
		p("}")
	}
	p("namespace inbox {")
	p("  inbox = yes")
	p("  prefix =")
	p("  separator = /")
	// A folder named "All Mail" (created by a test) is flagged \All, as
	// Gmail's is, to test hiding folders by special use.
	p(`  mailbox "All Mail" {`)
	p(`    special_use = \All`)
	p("  }")
	p("}")
	p("passdb {")
	p("  driver = passwd-file")
	p("  args = scheme=PLAIN username_format=%%n %s/users", c.dir)
	p("}")
	p("userdb {")
	p("  driver = passwd-file")
	p("  args = username_format=%%n %s/users", c.dir)
	p("}")
	p("")
	p("service imap-login {")
	p("  inet_listener imap {")
	p("    port = %d", c.port)
	p("  }")
	p("  inet_listener imaps {")
	p("    port = %d", c.tlsPort)
	p("    ssl = yes")
	p("  }")
	if c.rootless {
		p("  chroot =")
	}
	p("}")
	if c.pop3Port != 0 {
		p("service pop3-login {")
		p("  inet_listener pop3 {")
		p("    port = %d", c.pop3Port)
		p("  }")
		p("  inet_listener pop3s {")
		p("    port = 0")
		p("  }")
		if c.rootless {
			p("  chroot =")
		}
		p("}")
	}
	if c.rootless {
		name, group := strconv.Itoa(c.uid), strconv.Itoa(c.gid)
		if u, err := user.LookupId(name); err == nil {
			name = u.Username
		}
		if g, err := user.LookupGroupId(group); err == nil {
			group = g.Name
		}
		p("default_internal_user = %s", name)
		p("default_internal_group = %s", group)
		p("default_login_user = %s", name)
		p("service anvil {")
		p("  chroot =")
		p("}")
	}
	return b.String()
}

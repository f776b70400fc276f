package console

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var localeFiles embed.FS

// Languages of the console: English, and Simplified Chinese — the customer's
// documents are Chinese. The first is the fallback.
var languages = []language.Tag{language.English, language.SimplifiedChinese}

// texts are the console's messages in every language.
type texts struct {
	bundle  *i18n.Bundle
	matcher language.Matcher
}

func loadTexts() (*texts, error) {
	b := i18n.NewBundle(languages[0])
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	for _, tag := range languages {
		if _, err := b.LoadMessageFileFS(localeFiles, "locales/"+tag.String()+".json"); err != nil {
			return nil, fmt.Errorf("console: messages of %s: %w", tag, err)
		}
	}
	return &texts{bundle: b, matcher: language.NewMatcher(languages)}, nil
}

// locale is the language a request is answered in, and its messages.
type locale struct {
	tag       language.Tag
	localizer *i18n.Localizer
}

const localeKey = "itilflow.locale"

// language picks the request's language for the handlers.
func (c *Console) language(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		ec.Set(localeKey, c.pickLocale(ec))
		return next(ec)
	}
}

// pickLocale is the language the person chose, else the best match of their
// browser's Accept-Language.
func (c *Console) pickLocale(ec echo.Context) *locale {
	var prefs []language.Tag
	if ck, err := ec.Cookie("itilflow_lang"); err == nil {
		if t, err := language.Parse(ck.Value); err == nil {
			prefs = append(prefs, t)
		}
	}
	accept, _, _ := language.ParseAcceptLanguage(ec.Request().Header.Get("Accept-Language"))
	prefs = append(prefs, accept...)
	_, i, _ := c.texts.matcher.Match(prefs...)
	tag := languages[i]
	return &locale{tag: tag, localizer: i18n.NewLocalizer(c.texts.bundle, tag.String())}
}

// localeOf is the request's language; a request refused before the language
// middleware ran (a body too large, text the gate refused) gets one picked
// now, for its error page.
func (c *Console) localeOf(ec echo.Context) *locale {
	if l, ok := ec.Get(localeKey).(*locale); ok {
		return l
	}
	return c.pickLocale(ec)
}

// text is the message id in the locale's language, with data filled in;
// a message it lacks is marked ⟦id⟧, never silently shown in another
// language (the browser test looks for the mark on every page, and
// TestEveryTextIsTranslated checks the files).
func (l *locale) text(id string, data ...any) string {
	cfg := &i18n.LocalizeConfig{MessageID: id}
	if len(data) > 0 {
		cfg.TemplateData = data[0]
	}
	s, tag, err := l.localizer.LocalizeWithTag(cfg)
	if err != nil || tag != l.tag {
		return "⟦" + id + "⟧"
	}
	return s
}

// knows says whether the locale has a text for id.
func (l *locale) knows(id string) bool {
	_, tag, err := l.localizer.LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id})
	return err == nil && tag == l.tag
}

// setLanguage remembers the language a person chose, for a year.
func (c *Console) setLanguage(ec echo.Context) error {
	tag, err := language.Parse(ec.FormValue("lang"))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unknown language")
	}
	_, i, _ := c.texts.matcher.Match(tag)
	ec.SetCookie(&http.Cookie{Name: "itilflow_lang", Value: languages[i].String(), Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.cfg.Secure})
	back := ec.FormValue("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") {
		back = "/"
	}
	return ec.Redirect(http.StatusSeeOther, back)
}

// durationText says how long d is, to the minute, in the locale's language.
func (l *locale) durationText(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	days, hours, minutes := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0:
		return l.text("duration.days_hours", map[string]any{"Days": days, "Hours": hours})
	case hours > 0:
		return l.text("duration.hours_minutes", map[string]any{"Hours": hours, "Minutes": minutes})
	}
	return l.text("duration.minutes", map[string]any{"Minutes": minutes})
}

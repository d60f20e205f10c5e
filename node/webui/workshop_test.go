package webui

import (
	"testing"

	"github.com/difronte/difronte/node/workshop"
	"github.com/difronte/difronte/web"
)

// TestWorkshopCatalogue: every code the workshop shows through a key
// built at run time (a warning, a checklist item or choice, a skill, a
// refusal, a field error) has its message in Italian and in English.
func TestWorkshopCatalogue(t *testing.T) {
	c, err := loadCatalogues(web.Locales())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	add := func(prefix string, vs ...string) {
		for _, v := range vs {
			keys = append(keys, prefix+"."+v)
		}
	}
	add("workshop.warn", workshop.WarningCodes...)
	add("workshop.skill", workshop.States...)
	add("terminal_state", workshop.States...)
	add("workshop.refused", refusalCodes...)
	add("err", fieldCodes...)
	add("err", "bad_photo", "minutes_or_hours", "unknown_terminal", "bad_number")
	add("workshop.choice", workshop.WipeMethods...)
	add("workshop.choice", workshop.SignerRoles...)
	add("workshop.yesno", "true", "false")
	add("workshop.item", "unknown")
	for _, from := range workshop.States {
		for _, to := range workshop.Next(from) {
			for _, it := range workshop.Checklist(from, to) {
				add("workshop.item", it.Key)
			}
		}
	}
	for _, lang := range []string{"it", "en"} {
		for _, k := range keys {
			if !c.has(lang, k) {
				t.Errorf("%s: no message for %q", lang, k)
			}
		}
	}
}

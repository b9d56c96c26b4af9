package flow

import (
	"slices"
)

// resolve turns approver rules into an ordered, duplicate-free list of
// existing people. Listed, chosen and form-field people are checked against
// the directory (they come from templates and users and may be stale);
// managers, heads and role members come from the directory itself.
func resolve(dir Directory, st *Instance, node string, rules []ApproverRule) ([]string, error) {
	var out []string
	add := func(p string) {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	addIfExists := func(p string) error {
		if p == "" || slices.Contains(out, p) {
			return nil
		}
		ok, err := dir.Exists(p)
		if err != nil {
			return err
		}
		if ok {
			out = append(out, p)
		}
		return nil
	}
	for i := range rules {
		r := &rules[i]
		switch r.Type {
		case RulePeople:
			for _, p := range r.People {
				if err := addIfExists(p); err != nil {
					return nil, err
				}
			}
		case RuleRole:
			members, err := dir.RoleMembers(r.Role)
			if err != nil {
				return nil, err
			}
			members = slices.Clone(members)
			slices.Sort(members)
			for _, p := range members {
				add(p)
			}
		case RuleManager, RuleManagerChain:
			chain, err := managerChain(dir, st.Initiator, r.Level)
			if err != nil {
				return nil, err
			}
			if r.Type == RuleManager {
				if len(chain) == r.Level {
					add(chain[r.Level-1])
				}
				continue
			}
			for _, p := range chain {
				add(p)
			}
		case RuleDepartmentHead:
			head, err := dir.DepartmentHead(st.Initiator)
			if err != nil {
				return nil, err
			}
			add(head)
		case RuleChosen:
			for _, p := range st.Chosen[node] {
				if err := addIfExists(p); err != nil {
					return nil, err
				}
			}
		case RuleFormField:
			p, _ := st.Form[r.Field].(string)
			if err := addIfExists(p); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// managerChain returns up to levels managers above person, nearest first,
// stopping at the top or at a loop in the directory's manager data.
func managerChain(dir Directory, person string, levels int) ([]string, error) {
	var chain []string
	cur := person
	for len(chain) < levels {
		m, err := dir.Manager(cur)
		if err != nil {
			return nil, err
		}
		if m == "" || m == person || slices.Contains(chain, m) {
			break
		}
		chain = append(chain, m)
		cur = m
	}
	return chain, nil
}

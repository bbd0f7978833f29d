package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SMSConfig configures the SMS provider adapter: Tencent Cloud SMS, API
// 3.0 action SendSms (version 2021-01-11), requests signed with
// TC3-HMAC-SHA256 as Tencent documents it ("签名方法 v3",
// https://cloud.tencent.com/document/api/382/52072). It is read from the
// JSON file named by -notify-sms-config; the secret key is in its own file.
type SMSConfig struct {
	Endpoint      string            `json:"endpoint"` // default https://sms.tencentcloudapi.com
	Region        string            `json:"region"`   // default ap-guangzhou
	SecretID      string            `json:"secret_id"`
	SecretKeyFile string            `json:"secret_key_file"`
	SDKAppID      string            `json:"sdk_app_id"` // SmsSdkAppId
	SignName      string            `json:"sign_name"`  // the approved signature, e.g. 某某市公安局
	Templates     map[string]string `json:"templates"`  // template name (a kind, cancelled_closure, missed_booking) → TemplateId

	secretKey string
}

// LoadSMSConfig reads an SMS configuration file and its secret key file,
// refusing one that lacks what SendSms needs.
func LoadSMSConfig(path string) (*SMSConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c SMSConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if c.SecretKeyFile == "" {
		return nil, fmt.Errorf("%s: secret_key_file is required", path)
	}
	k, err := os.ReadFile(c.SecretKeyFile)
	if err != nil {
		return nil, fmt.Errorf("%s: secret_key_file: %w", path, err)
	}
	c.secretKey = strings.TrimSpace(string(k))
	return &c, c.check()
}

func (c *SMSConfig) check() error {
	if c.Endpoint == "" {
		c.Endpoint = "https://sms.tencentcloudapi.com"
	}
	if c.Region == "" {
		c.Region = "ap-guangzhou"
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("sms: endpoint %q is not an http(s) URL", c.Endpoint)
	}
	var missing []string
	for name, v := range map[string]string{"secret_id": c.SecretID, "secret key": c.secretKey, "sdk_app_id": c.SDKAppID, "sign_name": c.SignName} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(c.Templates) == 0 {
		missing = append(missing, "templates")
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("sms: %s missing", strings.Join(missing, ", "))
	}
	return nil
}

// smsSender sends through Tencent Cloud SMS.
type smsSender struct {
	c   *SMSConfig
	hc  *http.Client
	now func() time.Time
}

// sendSmsRequest is SendSms's body (2021-01-11).
type sendSmsRequest struct {
	PhoneNumberSet   []string `json:"PhoneNumberSet"`
	SmsSdkAppID      string   `json:"SmsSdkAppId"`
	SignName         string   `json:"SignName"`
	TemplateID       string   `json:"TemplateId"`
	TemplateParamSet []string `json:"TemplateParamSet"`
	SessionContext   string   `json:"SessionContext,omitempty"`
}

type sendSmsResponse struct {
	Response struct {
		Error *struct {
			Code    string `json:"Code"`
			Message string `json:"Message"`
		} `json:"Error"`
		SendStatusSet []struct {
			SerialNo       string `json:"SerialNo"`
			Code           string `json:"Code"`
			Message        string `json:"Message"`
			SessionContext string `json:"SessionContext"`
		} `json:"SendStatusSet"`
		RequestID string `json:"RequestId"`
	} `json:"Response"`
}

// errPermanent marks a refusal that a retry would not change.
type errPermanent struct{ msg string }

func (e errPermanent) Error() string { return e.msg }

// send sends one text message; sessionContext (the notification id) comes
// back in the provider's receipt.
func (s *smsSender) send(ctx context.Context, phone string, m Message, sessionContext string) error {
	tpl, ok := s.c.Templates[m.Template]
	if !ok {
		return errPermanent{fmt.Sprintf("sms: no template configured for %q", m.Template)}
	}
	body, _ := json.Marshal(sendSmsRequest{PhoneNumberSet: []string{phone}, SmsSdkAppID: s.c.SDKAppID, SignName: s.c.SignName,
		TemplateID: tpl, TemplateParamSet: nonNil(m.Params), SessionContext: sessionContext})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.c.Endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("X-TC-Action", "SendSms")
	req.Header.Set("X-TC-Version", "2021-01-11")
	req.Header.Set("X-TC-Region", s.c.Region)
	ts := s.now().Unix()
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("Authorization", TC3Authorization(s.c.SecretID, s.c.secretKey, "sms", http.MethodPost, "/", "",
		[][2]string{{"content-type", req.Header.Get("Content-Type")}, {"host", req.URL.Host}, {"x-tc-action", "sendsms"}}, body, ts))
	resp, err := s.hc.Do(req)
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode >= 500 {
		return fmt.Errorf("sms: provider answered %d", resp.StatusCode)
	}
	var r sendSmsResponse
	if err := json.Unmarshal(rb, &r); err != nil {
		return fmt.Errorf("sms: provider answered %d with an unreadable body", resp.StatusCode)
	}
	if e := r.Response.Error; e != nil {
		msg := "sms: provider refused: " + e.Code
		if strings.HasPrefix(e.Code, "InternalError") || strings.HasPrefix(e.Code, "LimitExceeded") ||
			strings.HasPrefix(e.Code, "RequestLimitExceeded") || e.Code == "AuthFailure.SignatureExpire" {
			return errors.New(msg) // worth another try later
		}
		return errPermanent{msg}
	}
	if len(r.Response.SendStatusSet) != 1 {
		return errors.New("sms: provider answered without a send status")
	}
	if st := r.Response.SendStatusSet[0]; !strings.EqualFold(st.Code, "Ok") {
		if strings.HasPrefix(st.Code, "LimitExceeded") {
			return errors.New("sms: " + st.Code)
		}
		return errPermanent{"sms: not sent: " + st.Code}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TC3Authorization is the Authorization header of a Tencent Cloud API 3.0
// request, by the documented algorithm: the canonical request (method,
// URI, query, the signed headers as lowercase name:trimmed value lines in
// the order given — sorted by name — the list of their names, the
// payload's SHA-256), its SHA-256 in the string to sign ("TC3-HMAC-SHA256",
// the timestamp, the credential scope <UTC date>/<service>/tc3_request),
// signed with the key derived by HMAC-SHA256 from "TC3"+secret key over the
// date, the service and "tc3_request".
func TC3Authorization(secretID, secretKey, service, method, uri, query string, headers [][2]string, payload []byte, ts int64) string {
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	var canon, names strings.Builder
	for i, h := range headers {
		canon.WriteString(strings.ToLower(h[0]) + ":" + strings.TrimSpace(h[1]) + "\n")
		if i > 0 {
			names.WriteByte(';')
		}
		names.WriteString(strings.ToLower(h[0]))
	}
	creq := method + "\n" + uri + "\n" + query + "\n" + canon.String() + "\n" + names.String() + "\n" + sha256hex(payload)
	scope := date + "/" + service + "/tc3_request"
	toSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(ts, 10) + "\n" + scope + "\n" + sha256hex([]byte(creq))
	k := hmacSHA256(hmacSHA256(hmacSHA256([]byte("TC3"+secretKey), date), service), "tc3_request")
	sig := hex.EncodeToString(hmacSHA256(k, toSign))
	return "TC3-HMAC-SHA256 Credential=" + secretID + "/" + scope + ", SignedHeaders=" + names.String() + ", Signature=" + sig
}

// scepclient: a SCEP client for the tests, built on Debian's packaging of
// micromdm/scep (golang-github-micromdm-scep-dev): its HTTP client (GetCACaps,
// GetCACert, PKIOperation by GET or POST, as the server's capabilities say)
// and its message code (PKCSReq, RenewalReq, CertRep). Only the glue is ours,
// so the gateway and signetd are checked against someone else's encoding.
//
//	scepclient -url URL -caps                       print GetCACaps
//	scepclient -url URL -cacert FILE                GetCACert, the certificates as PEM
//	scepclient -url URL -challenge C -cn CN -key K -cert OUT        PKCSReq
//	scepclient -url URL -renew-key K -renew-cert C -cn CN -key K2 -cert OUT   RenewalReq
//	scepclient -url URL -challenges FILE -n N -clients 16           enrolments/s
//
// -get sends PKIOperation by GET (base64 in message=, as the library encodes
// it) even when the server offers POST.
//
// Exit status: 0 issued, 2 the server answered FAILURE or PENDING, 1 any
// other error.
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/kit/log"
	scepclient "github.com/micromdm/scep/v2/client"
	"github.com/micromdm/scep/v2/cryptoutil/x509util"
	"github.com/micromdm/scep/v2/scep"
	scepserver "github.com/micromdm/scep/v2/server"
	"go.mozilla.org/pkcs7"
)

var errRefused = errors.New("refused")

func die(code int, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "scepclient: "+format+"\n", args...)
	os.Exit(code)
}

func caCerts(ctx context.Context, c scepclient.Client) []*x509.Certificate {
	raw, n, err := c.GetCACert(ctx, "")
	if err != nil {
		die(1, "GetCACert: %v", err)
	}
	var certs []*x509.Certificate
	if n > 1 {
		certs, err = scep.CACerts(raw)
	} else {
		certs, err = x509.ParseCertificates(raw)
	}
	if err != nil || len(certs) == 0 {
		die(1, "GetCACert: cannot parse the answer (%d certificate(s) announced): %v", n, err)
	}
	return certs
}

func readKey(path string) *rsa.PrivateKey {
	b, err := os.ReadFile(path)
	if err != nil {
		die(1, "%v", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		die(1, "%s: not PEM", path)
	}
	k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		k8, err8 := x509.ParsePKCS8PrivateKey(blk.Bytes)
		rk, ok := k8.(*rsa.PrivateKey)
		if err8 != nil || !ok {
			die(1, "%s: not an RSA key", path)
		}
		k = rk
	}
	return k
}

func readCert(path string) *x509.Certificate {
	b, err := os.ReadFile(path)
	if err != nil {
		die(1, "%v", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		die(1, "%s: not PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		die(1, "%s: %v", path, err)
	}
	return c
}

// selfSigned: the throwaway signer certificate of a PKCSReq (RFC 8894 3.3.1).
func selfSigned(key *rsa.PrivateKey, cn string) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// pkiOperation is the client's own PKIOperation (POST when the server says
// POSTPKIOperation), or with -get the library's GET endpoint.
var pkiOperation func(ctx context.Context, c scepclient.Client, msg []byte) ([]byte, error)

func postOrDefault(ctx context.Context, c scepclient.Client, msg []byte) ([]byte, error) {
	return c.PKIOperation(ctx, msg)
}

func viaGet(url string) func(context.Context, scepclient.Client, []byte) ([]byte, error) {
	e, err := scepserver.MakeClientEndpoints(url)
	if err != nil {
		die(1, "%v", err)
	}
	return func(ctx context.Context, _ scepclient.Client, msg []byte) ([]byte, error) {
		resp, err := e.GetEndpoint(ctx, scepserver.SCEPRequest{Operation: "PKIOperation", Message: msg})
		if err != nil {
			return nil, err
		}
		r := resp.(scepserver.SCEPResponse)
		return r.Data, r.Err
	}
}

type request struct {
	cn, challenge string
	key           *rsa.PrivateKey
	signerKey     *rsa.PrivateKey   // nil: key, with a self-signed certificate
	signerCert    *x509.Certificate // the certificate being renewed
}

// enrol sends one PKCSReq or RenewalReq and returns the issued certificate.
func enrol(ctx context.Context, c scepclient.Client, certs []*x509.Certificate, r request) (*x509.Certificate, error) {
	csrDER, err := x509util.CreateCertificateRequest(rand.Reader, &x509util.CertificateRequest{
		CertificateRequest: x509.CertificateRequest{Subject: pkix.Name{CommonName: r.cn},
			SignatureAlgorithm: x509.SHA256WithRSA},
		ChallengePassword: r.challenge,
	}, r.key)
	if err != nil {
		return nil, fmt.Errorf("CSR: %v", err)
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return nil, fmt.Errorf("CSR: %v", err)
	}
	tmpl := &scep.PKIMessage{MessageType: scep.PKCSReq, Recipients: certs}
	if r.signerCert != nil {
		tmpl.MessageType = scep.RenewalReq
		tmpl.SignerKey, tmpl.SignerCert = r.signerKey, r.signerCert
	} else {
		self, err := selfSigned(r.key, r.cn)
		if err != nil {
			return nil, err
		}
		tmpl.SignerKey, tmpl.SignerCert = r.key, self
	}
	// The RA certificate is the one that may encipher keys (the CA's may not).
	msg, err := scep.NewCSRRequest(csr, tmpl, scep.WithCertsSelector(scep.EnciphermentCertsSelector()))
	if err != nil {
		return nil, fmt.Errorf("PKIMessage: %v", err)
	}
	resp, err := pkiOperation(ctx, c, msg.Raw)
	if err != nil {
		return nil, fmt.Errorf("PKIOperation: %v", err)
	}
	rep, err := scep.ParsePKIMessage(resp, scep.WithCACerts(certs))
	if err != nil {
		return nil, fmt.Errorf("CertRep: %v", err)
	}
	if rep.TransactionID != msg.TransactionID {
		return nil, fmt.Errorf("CertRep: transactionID %q, sent %q", rep.TransactionID, msg.TransactionID)
	}
	switch rep.PKIStatus {
	case scep.SUCCESS:
	case scep.FAILURE:
		return nil, fmt.Errorf("%w: FAILURE, failInfo %s", errRefused, rep.FailInfo)
	default:
		return nil, fmt.Errorf("%w: pkiStatus %s", errRefused, rep.PKIStatus)
	}
	if err := rep.DecryptPKIEnvelope(tmpl.SignerCert, tmpl.SignerKey); err != nil {
		return nil, fmt.Errorf("CertRep envelope: %v", err)
	}
	return rep.CertRepMessage.Certificate, nil
}

func writePEM(path, typ string, der ...[]byte) {
	var b []byte
	for _, d := range der {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d})...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		die(1, "%v", err)
	}
}

// bench: n enrolments over `clients` goroutines, one challenge a line of
// file (the i-th bound to device ID bench-i). Prints one JSON object with the
// fields the other bench programs print (ops, rate, p50_us, p99_us); exits 1
// if any enrolment failed, so a failure is never counted as a rate.
func bench(ctx context.Context, c scepclient.Client, certs []*x509.Certificate, file string, n, clients int) {
	b, err := os.ReadFile(file)
	if err != nil {
		die(1, "%v", err)
	}
	codes := strings.Fields(string(b))
	if n <= 0 || len(codes) < n {
		die(1, "%s: %d challenges for %d enrolments", file, len(codes), n)
	}
	// A key per enrolment (the transactionID is the key's hash, and signetd
	// refuses one seen with another CSR); made first, on every CPU: RSA key
	// generation is the client's cost, not the server's.
	keys := make([]*rsa.PrivateKey, n)
	var wg sync.WaitGroup
	idx := make(chan int, n)
	for i := 0; i < n; i++ {
		idx <- i
	}
	close(idx)
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				k, err := rsa.GenerateKey(rand.Reader, 2048)
				if err != nil {
					die(1, "%v", err)
				}
				keys[i] = k
			}
		}()
	}
	wg.Wait()
	next := make(chan int, n)
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	var mu sync.Mutex
	var lat []time.Duration
	failed := 0
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				_, err := enrol(ctx, c, certs, request{cn: fmt.Sprintf("bench-%d", i), challenge: codes[i], key: keys[i]})
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					failed++
					fmt.Fprintf(os.Stderr, "scepclient: enrolment %d: %v\n", i, err)
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	if failed > 0 {
		die(1, "%d of %d enrolments failed", failed, n)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) int64 { return lat[int(p*float64(len(lat)-1))].Microseconds() }
	fmt.Printf("{\"op\":\"scep_enrol\",\"clients\":%d,\"ops\":%d,\"seconds\":%.3f,\"rate\":%.1f,\"p50_us\":%d,\"p99_us\":%d}\n",
		clients, n, secs, float64(n)/secs, pct(0.50), pct(0.99))
}

func main() {
	url := flag.String("url", "", "the SCEP URL, e.g. http://127.0.0.1:8080/scep/mdm")
	caps := flag.Bool("caps", false, "print GetCACaps and exit")
	cacert := flag.String("cacert", "", "write GetCACert's certificates (PEM) here and exit")
	challenge := flag.String("challenge", "", "the challenge password (an enrolment code)")
	cn := flag.String("cn", "scep-device", "the CSR's commonName")
	keyOut := flag.String("key", "", "write the new RSA key here (PEM)")
	certOut := flag.String("cert", "", "write the issued certificate here (PEM)")
	renewKey := flag.String("renew-key", "", "renewal: the current key")
	renewCert := flag.String("renew-cert", "", "renewal: the current certificate")
	challenges := flag.String("challenges", "", "bench: a file of challenges, one a line")
	n := flag.Int("n", 0, "bench: enrolments")
	clients := flag.Int("clients", 16, "bench: concurrent clients")
	get := flag.Bool("get", false, "PKIOperation by GET")
	flag.Parse()
	if *url == "" {
		die(1, "-url is required")
	}
	pkiOperation = postOrDefault
	if *get {
		pkiOperation = viaGet(*url)
	}
	// SCEP's default content cipher is DES; signetd refuses it (RFC 8894 wants AES).
	pkcs7.ContentEncryptionAlgorithm = pkcs7.EncryptionAlgorithmAES128CBC
	ctx := context.Background()
	c, err := scepclient.New(*url, log.NewNopLogger())
	if err != nil {
		die(1, "%v", err)
	}
	if *caps {
		b, err := c.GetCACaps(ctx)
		if err != nil {
			die(1, "GetCACaps: %v", err)
		}
		fmt.Print(string(b))
		return
	}
	certs := caCerts(ctx, c)
	if *cacert != "" {
		var ders [][]byte
		for _, ct := range certs {
			ders = append(ders, ct.Raw)
		}
		writePEM(*cacert, "CERTIFICATE", ders...)
		return
	}
	if *challenges != "" {
		bench(ctx, c, certs, *challenges, *n, *clients)
		return
	}
	if *keyOut == "" || *certOut == "" {
		die(1, "-key and -cert are required")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		die(1, "%v", err)
	}
	r := request{cn: *cn, challenge: *challenge, key: key}
	if *renewCert != "" {
		r.signerKey, r.signerCert = readKey(*renewKey), readCert(*renewCert)
	}
	crt, err := enrol(ctx, c, certs, r)
	if err != nil {
		code := 1
		if errors.Is(err, errRefused) {
			code = 2
		}
		die(code, "%v", err)
	}
	writePEM(*keyOut, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))
	writePEM(*certOut, "CERTIFICATE", crt.Raw)
}

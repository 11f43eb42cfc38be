package nasbench201

import "github.com/cpntrain/cpntrain/datasets/internal/fetch"

// Revision is the commit of github.com/HayeonLee/HELP the data is pinned
// to.
const Revision = "45f70eb92d0d735970a33b608d1544ad3c52f285"

// DefaultBaseURL is the HELP repository's data/nasbench201 folder at
// Revision.
const DefaultBaseURL = "https://raw.githubusercontent.com/HayeonLee/HELP/" + Revision + "/data/" + DirName

// files lists every file of the data folder with its size and SHA-256 (the
// values of SHA256SUMS of the reference data), by name. LICENSE.HELP is
// the repository's LICENSE (MIT) at its root.
var files = []fetch.File{
	{Name: "LICENSE.HELP", Remote: "../../LICENSE", Size: 1066, SHA256: "3c98229c673fb4c782576aa9da6013416cc906a8a38d0d6daf15807c6361f4f5"},
	{Name: "hardware_embedding_index.pt", Size: 431, SHA256: "6ca321dd4af6ca236430c3d9ffd0ed49319335be77dc4fc76ae94b597843f7f6"},
	{Name: "latency/1080ti_1.pt", Size: 141039, SHA256: "4028f52b2c2441da126932e3827ae11a7f76d39818c4374c1b9ab9df236e23f4"},
	{Name: "latency/1080ti_256.pt", Size: 141039, SHA256: "435af0ccfab01f5dc55dc9f2e8b90ca37b396b2656e327bba5ee0b6eb9c24464"},
	{Name: "latency/1080ti_32.pt", Size: 141039, SHA256: "affce4fcdcf6f28622365995ef2ec018bb07d448add59f80633c0978c393cdea"},
	{Name: "latency/2080ti_1.pt", Size: 141039, SHA256: "38cf0e8f698abf8696c69b41a358fe9ddedf5d54cb1ae6f85b04dd8a8f89a1b3"},
	{Name: "latency/2080ti_256.pt", Size: 141039, SHA256: "daee655c44c46955d8318ddf0fa39254e70bab1ae723a6abc53d7b7e4e1561ae"},
	{Name: "latency/2080ti_32.pt", Size: 141039, SHA256: "ebc603ad325850663fc56c8e0fde52fadea28e585a8405864baa20f986eaf29d"},
	{Name: "latency/essential_ph_1.pt", Size: 31663, SHA256: "a97165c8669a216b9ca046041c83a07352bd07f2a42e2d8fea8b51e7ddbcabf0"},
	{Name: "latency/eyeriss.pt", Size: 141039, SHA256: "6f1dd2f8c0442289a09ab78e63e49bde96489f6d455cc33d5fa5aed37edb5d03"},
	{Name: "latency/fpga.pt", Size: 141039, SHA256: "6a0333c1476a3ab039d8c39e5d42ac99efe9e7f3ff521289569013fa84233b28"},
	{Name: "latency/gold_6226.pt", Size: 141039, SHA256: "6a00f63d14f67f8007ec04519f638a90aa6ed5357cf5c0e60c391df37f186c99"},
	{Name: "latency/gold_6240.pt", Size: 141039, SHA256: "ac6dd41f183de69bba21dec3954ac73333b7dec871e0defbcce0572d82536890"},
	{Name: "latency/pixel2.pt", Size: 31663, SHA256: "051845ddefc2bc138f21e2217f6c7827fe280c78375cbfb4b5bd252a888cb950"},
	{Name: "latency/pixel3.pt", Size: 141039, SHA256: "cf1387da12e06b1d4541ce85f3ca4869d551084e09daf4acf024b6e21a80d465"},
	{Name: "latency/raspi4.pt", Size: 141039, SHA256: "2fae425c50bcaef7aacc5391244cd0af98bfc7fba689a8741e461cb18192f57c"},
	{Name: "latency/samsung_a50.pt", Size: 31663, SHA256: "0872cb4ec8ecc7ea1b3bd8c98dd705f2d0f6e4940f3af833b313e484de39b155"},
	{Name: "latency/samsung_s7.pt", Size: 31663, SHA256: "dbae32364b882022adb044b2aa1af77b66f43a180930d9be4d4c13532429f0ea"},
	{Name: "latency/silver_4114.pt", Size: 141039, SHA256: "0cce9dc9ba62ad81c21275298a88cb0e4534db6474a878f089df0abb13293421"},
	{Name: "latency/silver_4210r.pt", Size: 141039, SHA256: "f976049bda39abde94b8f8cac90140cb78a5069fc145c462d6d6bc2f8450727a"},
	{Name: "latency/titan_rtx_1.pt", Size: 141039, SHA256: "a854dac331e2a37d7dcd6ee1f63d1bc6d73ead3aeb0a86f803f45ea1b294859e"},
	{Name: "latency/titan_rtx_256.pt", Size: 141039, SHA256: "cff1fba40b1743d3716cfb74c86ac2463d0682c146f356fa9095ac0d02dfb2a5"},
	{Name: "latency/titan_rtx_32.pt", Size: 141039, SHA256: "1258bee5501fe191530b9898a4f55a122ab30beec9c6ea74598c47a0173babed"},
	{Name: "latency/titanx_1.pt", Size: 141039, SHA256: "3461cc686263bd0ce4d4cd915bfc2fe067deb139cc68da387741bd6443434cb0"},
	{Name: "latency/titanx_256.pt", Size: 141039, SHA256: "04ddb80719515687bd3d722235cd5da821b50bd453a9e580b1e9d321dfb92941"},
	{Name: "latency/titanx_32.pt", Size: 141039, SHA256: "9c4ca69131e34451fb1e104caa47efbe12ffec3cc47bf051613674d7af044ff2"},
	{Name: "latency/titanxp_1.pt", Size: 141039, SHA256: "935aa0041c6592bed90f2f94ff3b4d40e892c066467864b704e6583682a57b20"},
	{Name: "latency/titanxp_256.pt", Size: 141039, SHA256: "9f03206bc62b0dcfc882820de07f55dc1fb7f43f57dfc977e4f0f4b019cb5041"},
	{Name: "latency/titanxp_32.pt", Size: 141039, SHA256: "4b6db63c7a9fb55177aa2649d70031dd86d2ed1609467ef5803dc1089a73cb1b"},
	{Name: "str_arch2idx.pt", Size: 1536943, SHA256: "e1d7b7cc7cf51d7c3cd6f9e726e7395bea87d7ba674e26202fb8633f963aef0d"},
}

"""Sentences that no knowledge-base article answers: the "none" examples.

The nearest-example matcher (:mod:`bot.knowledge.similarity`) compares a
message with these as well as with the articles; a message closer to them
than to any article is less likely to be a support question. The first
groups are the chit-chat and out-of-scope examples of the NLU training data
(``data/nlu/chitchat.yml``); the rest were written for this module:
other companies' products, everyday requests and small talk; questions
about a notes app that no article answers and long off-topic messages that
share everyday words (account, app, phone, password) with the articles;
other companies' products described in the words of Lumen's own topics
(an Apple ID password, a Netflix double charge, a stuck Windows update);
and messages of a few words that name no topic ("not working", "help me").
"""

from __future__ import annotations

NEGATIVE_EXAMPLES: tuple[str, ...] = (
    # greet
    "hi",
    "hello",
    "hey",
    "hey there",
    "hi there!",
    "hello, anyone there?",
    "good morning",
    "good afternoon",
    "good evening",
    "morning!",
    "hiya",
    "helo",
    "hallo",
    "heyy",
    "yo",
    "howdy",
    "greetings",
    "hi, I need some help",
    "hello Baton",
    "hey, quick question",
    "hi team",
    "hello support",
    "hiya folks",
    "hiya there",
    "heya",
    "hii",
    "hiii",
    "hey hey",
    "hellooo",
    "hola",
    "hi hi",
    "sup",
    "what's up",
    "wassup",
    "yo baton",
    "hey baton",
    "hi Baton, how are you",
    "hello, is this Lumen support?",
    "hey, hope you're well",
    "good morning, I have a question",
    "afternoon",
    "evening all",
    "hi, can you help me",
    "hey there, I could use some help",
    "hello? is anybody here",
    "hi lumen",
    "heyo",
    "g'day",
    "hiya, quick one",
    "hello again",
    "hey, how's it going",
    "hi hi there",
    "hello hello",
    "hey you",
    "good morning Baton",
    "morning team",
    "good afternoon support",
    "hey folks",
    "hiya Baton",
    "hey, morning",
    "hullo",
    "hi, good evening",
    "hey, hello",
    # goodbye
    "bye",
    "goodbye",
    "bye bye",
    "see you",
    "see ya later",
    "cya",
    "talk to you later",
    "have a nice day",
    "good night",
    "that's all, bye",
    "I'm done, goodbye",
    "gotta go",
    "I have to go now",
    "catch you later",
    "farewell",
    "byee",
    "ok bye then",
    "nothing else, have a good one",
    "that will be all for today",
    "I'm leaving now",
    "bye now",
    "goodbye for now",
    "see you around",
    "ttyl",
    "later",
    "laters",
    "bye for now",
    "have a good day",
    "have a great weekend",
    "take care",
    "gnight",
    "night night",
    "signing off",
    "that's it from me, bye",
    "all sorted, bye",
    "I'm off",
    "ciao",
    "adios",
    "ok see you",
    "so long",
    "end chat",
    "I'm closing the chat now",
    "talk soon",
    "until next time",
    "g2g",
    "good bye",
    "buh bye",
    "peace out",
    "im out, bye",
    "that's everything, goodbye",
    "cya later",
    "cya soon",
    "ttyl bye",
    "ciao for now",
    "adios amigo",
    "take care, bye",
    "ok goodbye",
    "bye, have a nice evening",
    "see you next time",
    "goodbye and take care",
    "g2g bye",
    "ok I'm going now, bye",
    # thank
    "thanks",
    "thank you",
    "thx",
    "ty",
    "thank u so much",
    "thanks a lot",
    "many thanks",
    "cheers",
    "much appreciated",
    "thanks for the help",
    "great, thanks!",
    "thank you, that fixed it",
    "awesome thank you",
    "thanks, that's helpful",
    "appreciate it",
    "thnaks",
    "thankyou",
    "you've been very helpful, thanks",
    "perfect, thx",
    "that worked, thanks a bunch",
    "tnx",
    "thank youuu",
    "tysm",
    "thanks so much",
    "thanks loads",
    "cheers mate",
    "ta",
    "thank you very much",
    "thanks baton",
    "thanks for your patience",
    "I appreciate the help",
    "many thanks for the quick answer",
    "you're a star, thanks",
    "thanks, you saved my day",
    "brilliant, thank you",
    "nice one, thanks",
    "thx a lot",
    "thank you kindly",
    "great help, thanks",
    "thanks heaps",
    "grateful for the help",
    "ok thanks",
    "merci",
    "danke",
    "lovely, thanks",
    "big thanks",
    "thank you for sorting that out",
    "really appreciate it",
    "thanks again",
    "ty so much",
    "tyvm",
    "thanx",
    "thnx",
    "merci beaucoup",
    "danke schön",
    "ta very much",
    "thanks, much appreciated",
    "thank you so much for helping",
    "thanks for that",
    "cheers for the help",
    "ok thank you",
    # affirm
    "yes",
    "yes please",
    "yeah",
    "yep",
    "yup",
    "sure",
    "of course",
    "ok",
    "okay",
    "correct",
    "that's right",
    "absolutely",
    "definitely",
    "y",
    "yes it did",
    "yeah that helped",
    "indeed",
    "sounds good",
    "ya",
    "please do",
    "go ahead",
    "yes, that solved it",
    "yea",
    "yeah sure",
    "yes yes",
    "yess",
    "yeah it worked",
    "yes it's fixed now",
    "it worked",
    "that did the trick",
    "yep all good now",
    "sure thing",
    "alright",
    "k",
    "ok sure",
    "yes I would",
    "yes, connect me",
    "yes that would be great",
    "please, yes",
    "certainly",
    "affirmative",
    "right",
    "exactly",
    "i guess so",
    "yeah go for it",
    "do it",
    "agreed",
    "that's correct",
    "yes that's what I meant",
    "fine by me",
    "yes absolutely",
    "yes of course",
    "yeah definitely",
    "yep that's right",
    "that did it",
    "fine with me",
    "sure, go ahead",
    "ok, please do",
    "yes it's working now",
    "yeah, all good",
    "ok that works",
    "sounds great",
    # deny
    "no",
    "nope",
    "nah",
    "no thanks",
    "not really",
    "no it didn't",
    "not at all",
    "n",
    "never mind",
    "no, that didn't help",
    "still not working",
    "that doesn't solve my problem",
    "I don't think so",
    "negative",
    "no way",
    "didn't work",
    "no, it's still broken",
    "not quite",
    "absolutely not",
    "no, I'm fine",
    "noo",
    "nop",
    "no no",
    "nah thanks",
    "no, I'll manage",
    "no need",
    "it did not",
    "didn't help at all",
    "that didn't fix it",
    "same problem as before",
    "still broken",
    "nothing changed",
    "it's still the same",
    "not yet",
    "no, that's wrong",
    "that's not what I asked",
    "no, not that",
    "not necessary",
    "I'd rather not",
    "don't",
    "no, don't do that",
    "wrong",
    "nah it's still happening",
    "nope, didn't work",
    "no that's not it",
    "not helpful",
    "no, I'm good",
    "no, leave it",
    "nope not solved",
    "no absolutely not",
    "nah not really",
    "no, still not working",
    "nope, still the same",
    "no, it's still not syncing",
    "no, the problem is still there",
    "no that didn't work",
    "no, nothing changed",
    "no thank you",
    "nah, I'm good",
    "definitely not",
    "no it doesn't",
    # bot_challenge
    "are you a bot?",
    "are you a human?",
    "am I talking to a bot?",
    "am I talking to a real person?",
    "is this a robot",
    "are you real",
    "r u a bot",
    "who am I chatting with?",
    "who are you?",
    "what are you?",
    "are you an AI",
    "is this an automated chat",
    "is this chatgpt?",
    "are you a machine or a person",
    "is someone actually reading this",
    "you're a bot, right?",
    "what's your name",
    "are u human",
    "is this a chatbot",
    "am i speaking with software",
    "bot?",
    "r u real",
    "are you a real human being",
    "is baton a person",
    "is this automated?",
    "is there a human behind this chat",
    "are these answers automatic",
    "u a robot?",
    "are you artificial intelligence",
    "is this a virtual assistant",
    "what kind of bot are you",
    "who is Baton",
    "what exactly are you, a program?",
    "is a computer answering me",
    "are you a person or a script",
    "are you alive",
    "are you a live agent",
    "am I chatting with a human right now",
    "are you even real lol",
    "is this AI generated",
    "do I talk to a machine here",
    "tell me what you are",
    "are you a real support agent",
    "is this a recording",
    "are you powered by GPT",
    "who made you",
    "am I texting a robot",
    "is this an AI assistant",
    "you sound like a bot",
    "am I talking to a robot",
    "is this a real person or a bot",
    "are you a person?",
    "are you a bot or a human",
    "is this a bot answering",
    "are you a real person",
    "am I chatting with a bot",
    "are you human or AI",
    "is a real person typing this",
    "are you an automated assistant",
    "is this conversation with a machine",
    "are you a human agent or a bot",
    # out_of_scope
    "what's the weather like tomorrow?",
    "will it rain in London today",
    "give me a recipe for lasagna",
    "how do I bake sourdough bread",
    "tell me a joke about football",
    "who won the super bowl",
    "what's the score of the Lakers game",
    "can you book me a flight to Paris",
    "order me a pizza",
    "what's the capital of Australia",
    "what is the meaning of life",
    "recommend a good movie",
    "sing me a song",
    "what's the best stock to buy",
    "how tall is Mount Everest",
    "translate hello into Japanese",
    "what time is it in Tokyo",
    "can you help with my math homework",
    "which team will win the world cup",
    "write me a poem about cats",
    "how many calories in a banana",
    "what should I cook for dinner",
    "who is the president of France",
    "weather forecast for the weekend",
    "is it going to snow",
    "tell me a joke",
    "what's 17 times 23",
    "how do I fix my car's brakes",
    "my printer won't print, can you help",
    "how do I set up my wifi router",
    "can you reset my gmail password",
    "my iphone battery drains fast",
    "write my essay on the french revolution",
    "what's a good name for a dog",
    "where is the nearest pharmacy",
    "book a table for two tonight",
    "how do I lose weight fast",
    "recommend a podcast",
    "what's bitcoin trading at",
    "explain quantum physics to me",
    "who wrote hamlet",
    "how old is the universe",
    "can you call my mom",
    "set an alarm for 7am",
    "play some music",
    "what's the best laptop to buy this year",
    "how do I make a website",
    "can you help me with my excel formula",
    "do you like football",
    "what's your favourite colour",
    "are you single",
    "how do I get a visa for canada",
    "tell me about the history of rome",
    "what's the best burger place near me",
    "my microsoft word file won't open",
    "how do I cut my own hair",
    "who invented the telephone",
    "who painted the mona lisa",
    "who is the richest person in the world",
    "what's the weather in Madrid",
    "weather today",
    "will it be sunny on saturday",
    "recipe for pancakes",
    "how do I cook rice",
    "tell me something funny",
    "tell me a fun fact",
    "what's the population of china",
    "how far is the moon",
    "best restaurants in new york",
    "can you book a hotel for me",
    "my laptop screen is cracked, what do I do",
    "how do I fix my phone's wifi",
    "help me write a cover letter",
    "who will win the election",
    "what's the news today",
    "how do I learn spanish",
    # written for the knowledge base
    "good afternoon",
    "hey, anyone there?",
    "test",
    "asdf",
    "lol",
    "cool thanks",
    "great, that's all",
    "never mind",
    "nothing, just browsing",
    "what's your name",
    "are you a robot or a human",
    "how old are you",
    "do you like music",
    "what's the weather this weekend",
    "who won the game last night",
    "how do I make pancakes",
    "best pizza place near me",
    "book a table for two tonight",
    "how do I change the oil in my car",
    "my washing machine is leaking",
    "my tv remote stopped working",
    "my dog ate my homework",
    "help me write a cover letter",
    "what's a good name for a cat",
    "how far is the moon",
    "convert 50 dollars to euros",
    "what is the square root of 144",
    "tell me a fun fact",
    "recommend a book for the holidays",
    "how do I cancel my phone contract with my carrier",
    "refund for my concert tickets",
    "reset my instagram password",
    "my gmail account was hacked",
    "I can't log in to my online banking",
    "my amazon order never arrived",
    "how do I unsubscribe from spotify premium",
    "my wifi keeps dropping",
    "my iphone battery drains fast",
    "how do I install windows on a new pc",
    "how do I update my graphics drivers",
    "my printer won't connect to the computer",
    "excel keeps crashing when I open a spreadsheet",
    "how do I mute someone on whatsapp",
    "is google down",
    "how do I get a job at a tech company",
    "do you sponsor events",
    "can I visit your office",
    "who founded your company",
    "what are your company's values",
    "are you hiring interns",
    "do you have a referral program for partners",
    "I want to become a reseller",
    "what programming language is your app written in",
    "can you write code for me",
    "what's the meaning of this word",
    "how do I lose weight",
    "I'm bored",
    "sing happy birthday",
    "where can I buy a new laptop",
    "which phone should I buy",
    # notes-app questions the knowledge base does not answer
    "how do I turn on dark mode",
    "can I change the font size in the editor",
    "is there a way to pin a note to the top of the list",
    "how do I insert a table into a note",
    "can I change the colour of a notebook",
    "how do I create a notebook inside another notebook",
    "can I rename a tag everywhere at once",
    "do you have note templates for meeting minutes",
    "does the ipad app support handwriting with the apple pencil",
    "can lumen search for text inside photos",
    "can I record voice memos in a note",
    "is there a home screen widget for android",
    "do you have a public API or a zapier integration",
    "is there a web clipper extension to save articles",
    "can I write math formulas with LaTeX",
    "does the code block support syntax highlighting for python",
    "where can I see the word count of a note",
    "how do I print a note",
    "can I switch the app language to spanish",
    "how do I change my profile picture",
    "can I lock the app with face id",
    "how do I link one note to another",
    "is there a graph view of linked notes like obsidian",
    "can I scan paper documents into a note with my phone camera",
    "can I buy lumen plus as a gift for my sister",
    "do you sell a lifetime license",
    "please add a kanban board view, that would be great",
    "how do I move a note to a different notebook",
    "the spell checker underlines everything in german, can I change its language",
    "does lumen support right to left text for hebrew",
    "does the app work with a screen reader",
    "how do I sort notes by date created instead of title",
    "can I archive old notes so they don't clutter my list",
    "how do I mark a note as a favourite",
    "can I set a default notebook for new notes",
    "can I add emoji to my notebook names",
    "is there a way to draw sketches inside a note",
    "can I make the editor wider, the text column is so narrow",
    "how do I merge two notebooks into one",
    "how do I strike through text in a note",
    (
        "My bank app on my phone asks for a new password every time I open it. I "
        "already changed it twice this week. How do I make it stop?"
    ),
    (
        "I share a Netflix account with my brother and he changed the password without"
        " telling me. Now I can't watch anything on my phone. How should I bring it up"
        " with him?"
    ),
    (
        "I spend way too much time on my phone. My screen time report says six hours a"
        " day. Any tips for cutting down?"
    ),
    (
        "My mum forgot the password to her Facebook account and she can't get into her"
        " old email anymore. How does Facebook recover accounts?"
    ),
    (
        "I'm trying to set up an online account with my electricity provider to see my"
        " bills. Their app says my customer number is invalid. Who should I call?"
    ),
    (
        "My son wants his own phone for his ninth birthday. Is that too early? Which "
        "app should I use to limit his time on it?"
    ),
    (
        "The Uber app charged me twice for the same ride yesterday. I have the receipt"
        " in my email. How do I get them to fix it?"
    ),
    (
        "I need to renew my passport before my trip in March. The government website "
        "wants me to create an account first. How long does the appointment take?"
    ),
    (
        "My Spotify family plan keeps kicking my daughter out of her account on her "
        "tablet. It happens every time she opens the app. Is there a fix?"
    ),
    (
        "My wife and I have two weeks of time off in June. We want to travel around "
        "Italy by train. Which cities should we visit?"
    ),
    (
        "I got a text message saying my Apple ID is locked and I must click a link. Is"
        " that a scam? I don't even use that account much."
    ),
    # other companies' products described in the words of Lumen's topics
    "forgot my apple id password and now my iphone wont let me download anything",
    (
        "How do I recover my Yahoo Mail account? I no longer have the recovery "
        "phone number they have on file."
    ),
    (
        "outlook.com keeps telling me my password is wrong but I literally reset "
        "it an hour ago"
    ),
    "PayPal is supposed to text me a security code to log in but the SMS never arrives",
    "steam guard code not working, cant log into steam on my new pc",
    "instagram wont send me the 6 digit login code, been waiting 20 min already",
    (
        "Google Photos stopped syncing between my Pixel and my laptop, the "
        "browser only shows pictures from last month"
    ),
    (
        "iCloud Drive isn't syncing my Desktop folder between my iMac and my "
        "MacBook, the files just sit there with a little cloud icon"
    ),
    (
        'Dropbox has said "syncing 1,204 files" for two days on my Windows 11 '
        "machine, how do I make it finish"
    ),
    (
        "OneDrive keeps creating duplicate copies of my Excel files with my "
        "computer's name added at the end, why?"
    ),
    (
        "Netflix charged me twice this month, two identical charges of 15.49 on "
        "my card statement"
    ),
    "Disney+ billed me again after I cancelled, how do I get my money back from them",
    (
        "How do I cancel my Amazon Prime membership and get refunded for the "
        "months I didn't use?"
    ),
    "hulu double charged me wtf",
    (
        "I want a refund from Ryanair for a flight THEY cancelled and their "
        "website just loops me back to the booking page"
    ),
    (
        "the Lufthansa app crashes every time I try to check in for my flight "
        "tomorrow morning, any idea?"
    ),
    (
        "My Chase banking app logs me out constantly and asks for a verification "
        "code by text every single time I open it"
    ),
    "Revolut froze my card after I paid for something abroad, how do I unblock it?",
    "barclays app wont open at all since the latest update on my samsung",
    (
        'Facebook locked my account for "suspicious activity" and now wants me to '
        "upload a photo of my ID, is that safe?"
    ),
    (
        "X (twitter) won't let me change the email on my account, says the "
        "address is already in use"
    ),
    "How do I change the email address linked to my PlayStation Network account?",
    "discord says my account has been disabled and I didn't even do anything",
    "WhatsApp backup to Google Drive has been stuck at 0% for hours",
    (
        "Telegram desktop isn't showing the messages I get on my phone, they're "
        "out of sync since yesterday"
    ),
    (
        "Epic Games Launcher just closes by itself since the update, I can't "
        "start Fortnite"
    ),
    (
        "Roblox charged my credit card for Robux my 8 year old bought without "
        "asking, can I get that refunded?"
    ),
    "minecraft java keeps crashing with exit code 1 after i installed some mods",
    (
        "Xbox Game Pass renewed itself even though I turned off auto-renew in my "
        "Microsoft account"
    ),
    (
        "Microsoft Word takes forever to open documents on my work laptop since "
        "the last Office update"
    ),
    (
        'Google Docs keeps saying "trying to connect" and won\'t save my edits, '
        "I'm on good wifi"
    ),
    "How do I cancel Microsoft 365 Family without losing the files I keep in OneDrive?",
    (
        "windows 11 update stuck at 35% for 3 hours now... is it safe to just "
        "turn the pc off??"
    ),
    (
        'macOS Sonoma update failed with "an error occurred while installing the '
        'selected updates", what do I do'
    ),
    (
        "Since the iOS 17 update my iPhone 12 is sluggish and gets warm when I'm "
        "just scrolling"
    ),
    (
        "my android phone says storage full even after I deleted all my photos, "
        '"System" is using 40GB??'
    ),
    (
        "My iCloud storage is full. Do I have to pay Apple for more space or can "
        "I just delete old iPhone backups?"
    ),
    (
        "Gmail says I'm out of storage and I stopped receiving emails, what is "
        "eating my 15 GB"
    ),
    (
        "the HP Smart app can't find my printer on the wifi anymore after the "
        "router was replaced"
    ),
    "Canon printer driver won't install on my Mac, the installer quits halfway through",
    (
        "Verizon charged me a $35 activation fee that the guy in the store "
        "promised would be waived"
    ),
    "is T-Mobile down right now? no signal in Chicago since this morning",
    (
        "What are Vodafone's customer service opening hours? I need to port my "
        "number before Friday"
    ),
    "what time does Xfinity support open on sundays",
    "Is Slack down? Nobody in our company can send messages since 9am",
    "Zoom crashes every single time I try to share my screen on my MacBook Air",
    (
        "Microsoft Teams is eating 3GB of RAM, that's insane for a chat app, how "
        "do I make it lighter?"
    ),
    (
        "Evernote charged me for another year of Personal even though I stopped "
        "using it, how do I get Evernote to refund that renewal?"
    ),
    (
        "Notion won't load for me, just the spinning logo forever. Is Notion "
        "having an outage today?"
    ),
    (
        "OneNote on my iPad shows sync error 0xE0000024 on our shared SharePoint "
        "notebook at work"
    ),
    "how do I switch my Obsidian Sync subscription from monthly to yearly billing",
    (
        "Todoist reminders stopped showing up on my Android right after I "
        "upgraded to Todoist Pro"
    ),
    (
        "Spotify won't let me log in with Facebook anymore since I deleted my FB "
        "account, how do I get my playlists back"
    ),
    (
        "YouTube Premium family plan invite says the link expired, how do I send "
        "my sister a new one"
    ),
    "my Audible credits disappeared after I paused my membership, where did they go",
    "Kindle app isn't syncing the last page I read between my phone and my Paperwhite",
    (
        "Duolingo streak freeze didn't work and I lost my 400 day streak!! can "
        "Duolingo support restore it?"
    ),
    "Garmin Express says it can't find my watch when I try to update the firmware",
    (
        "Adobe wants a 50% early termination fee to cancel my Creative Cloud "
        "annual plan, is that even legal?"
    ),
    (
        "Canva Pro charged me after the free trial ended, I had no idea it would "
        "auto renew"
    ),
    (
        "hi, I forgot to cancel my LinkedIn Premium trial and got charged $39.99, "
        "can LinkedIn refund it?"
    ),
    (
        "my Coinbase account is restricted and I can't withdraw anything, their "
        "support only sends bot replies"
    ),
    (
        "Google account recovery keeps saying \"Google couldn't verify this "
        "account belongs to you\", I've tried 6 times"
    ),
    "Samsung account password reset email never arrives, checked spam and everything",
    "Proton Mail Bridge stopped syncing with Thunderbird after I updated it",
    (
        "Apple support chat hours in the UK? I need to talk to a real person "
        "about my AirPods warranty"
    ),
    (
        "Booking.com charged my card 240 euros even though the hotel said free "
        "cancellation, who refunds me, booking or the hotel?"
    ),
    "my Nintendo Switch eshop purchase went through twice, same game, two charges",
    "Venmo says my payment was declined but the money still left my bank account",
    (
        "Hello, I am writing because my husband's Hotmail was hacked last week "
        "and the hacker changed the phone number and the recovery email, "
        "Microsoft keeps sending the codes to the hacker's number, we have 15 "
        "years of family photos attached to emails in there, is there any way to "
        "talk to a human at Microsoft?"
    ),
    # a few words that name no topic at all
    "problem",
    "I have a problem",
    "not working",
    "it's not working!!",
    "doesnt work",
    "help me",
    "help pls",
    "HELP",
    "someone help",
    "this is useless",
    "useless bot",
    "helloooo??",
    "urgent",
    "very urgent please",
    "it broke again",
    "broken",
    "ugh",
    "seriously?",
    "wtf",
    "omg",
    "so annoying",
    "this is ridiculous",
    "something's wrong",
    "huh?",
    "it happened again",
    "why",
    "nothing works",
    "doesn't do anything",
    "fix this",
    "is this normal?",
)
